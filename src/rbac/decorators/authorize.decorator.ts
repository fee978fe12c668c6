import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { type Action, type GatewaySubject, permissionName } from '../permissions';

export const REQUIRED_PERMISSION = 'rgw:required-permission';

export interface RequiredPermission {
  readonly action: Action;
  readonly subject: GatewaySubject;
}

/**
 * The one decorator a protected admin route carries: the permission the policy guard checks, and
 * the matching OpenAPI responses.
 */
export const Authorize = (action: Action, subject: GatewaySubject) =>
  applyDecorators(
    SetMetadata(REQUIRED_PERMISSION, { action, subject } satisfies RequiredPermission),
    ApiUnauthorizedResponse({ description: 'No valid session or token' }),
    ApiForbiddenResponse({ description: `Needs ${permissionName(action, subject)}` }),
  );
