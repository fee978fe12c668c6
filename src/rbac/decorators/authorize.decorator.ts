import { SetMetadata, type Type, applyDecorators } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiCookieAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { type Action, type GatewaySubject, permissionName } from '../permissions';
import type { SubjectResolver } from '../subject-resolver';

export const ACCESS_RULE = 'rgw:access-rule';

/** What the policy guard checks on an admin route. */
export interface AccessRule {
  /** Null: any authenticated caller. */
  readonly permission: { readonly action: Action; readonly subject: GatewaySubject } | null;
  /** Resolves the instance acted on, so the permission's conditions (ownership) apply to it. */
  readonly resolver: Type<SubjectResolver> | null;
}

/**
 * The one decorator every non-public admin route carries: who may call it, checked by the policy
 * guard, and the matching OpenAPI security schemes and responses. The guard refuses a route without it.
 *
 * `@Authorize()` admits any authenticated caller; `@Authorize(action, subject)` needs that permission;
 * with a resolver, on the very instance the request acts on (a viewer may delete their own token).
 */
export function Authorize(): MethodDecorator & ClassDecorator;
export function Authorize(action: Action, subject: GatewaySubject, resolver?: Type<SubjectResolver>): MethodDecorator & ClassDecorator;
export function Authorize(action?: Action, subject?: GatewaySubject, resolver?: Type<SubjectResolver>): MethodDecorator & ClassDecorator {
  const permission = action && subject ? { action, subject } : null;
  return applyDecorators(
    SetMetadata(ACCESS_RULE, { permission, resolver: resolver ?? null } satisfies AccessRule),
    ApiCookieAuth('session'),
    ApiBearerAuth('token'),
    ApiBasicAuth('token-basic'),
    ApiUnauthorizedResponse({ description: 'No valid session or token' }),
    ...(permission
      ? [
          ApiForbiddenResponse({
            description: `Needs ${permissionName(permission.action, permission.subject)}${resolver ? ` on the ${permission.subject} concerned` : ''}`,
          }),
        ]
      : []),
  );
}
