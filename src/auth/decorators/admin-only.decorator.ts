import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';

export const ADMIN_ONLY = 'rgw:admin-only';

/**
 * Restricts a route to admins. Fine-grained CASL abilities replace this with the RBAC module; until
 * then user management is an admin's job alone.
 */
export const AdminOnly = () =>
  applyDecorators(
    SetMetadata(ADMIN_ONLY, true),
    ApiUnauthorizedResponse({ description: 'No valid session or token' }),
    ApiForbiddenResponse({ description: 'Caller is not an admin' }),
  );
