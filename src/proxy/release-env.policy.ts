import { BadGatewayException, BadRequestException, Inject, Injectable, PayloadTooLargeException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal';
import { BodyTooLargeError, readBoundedBody } from '../common/bounded-body';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { RackClient } from '../rack/rack-client';
import { reconcileEnv } from '../rbac/env-reconciliation';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import { PermissionDeniedError } from '../rbac/rbac.errors';

/** A release form is the environment plus a few fields; a larger body is not a release. */
const MAX_RELEASE_FORM_BYTES = 1024 * 1024;

/**
 * `POST /apps/{app}/releases` carries the app's whole environment. Before it reaches the rack, masked
 * values are restored from the release it is based on, protected keys are held, and any real change
 * needs env:update. The rewritten form is what the rack receives.
 */
@Injectable()
export class ReleaseEnvPolicy {
  constructor(
    private readonly rack: RackClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async rewrite(request: IncomingMessage, decision: AllowedRackRequest, principal: Principal): Promise<Buffer> {
    const body = await readBoundedBody(request, MAX_RELEASE_FORM_BYTES).catch((error: Error) => {
      throw error instanceof BodyTooLargeError
        ? new PayloadTooLargeException({
            code: 'release_form_too_large',
            message: `a release form may not exceed ${MAX_RELEASE_FORM_BYTES} bytes`,
          })
        : error;
    });
    const form = new URLSearchParams(body.toString('utf8'));
    const posted = form.get('env');
    const app = decision.app;
    if (posted === null || app === undefined) return body;
    if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      throw new BadRequestException({ code: 'release_form_expected', message: 'a release with env is created from a form body' });
    }

    const base = await this.baseEnv(app, form.get('parent-release'), principal.user.email);
    const protectedKeys = new Set([
      ...(this.config.secrets.protectedEnvKeys['*'] ?? []),
      ...(this.config.secrets.protectedEnvKeys[app] ?? []),
    ]);
    const result = reconcileEnv(posted, base, protectedKeys);
    if (!result.ok) {
      if (result.status === 403) throw new PermissionDeniedError(result.reason);
      throw new BadRequestException({ code: 'invalid_env', message: result.reason });
    }
    if (result.changedKeys.length > 0 && !decision.ability.can('update', 'env', { app })) {
      throw new PermissionDeniedError(`permission denied: env:update on app ${app}`);
    }
    form.set('env', result.env);
    return Buffer.from(form.toString());
  }

  private async baseEnv(app: string, parentRelease: string | null, actor: string): Promise<string> {
    const path = parentRelease
      ? `/apps/${encodeURIComponent(app)}/releases/${encodeURIComponent(parentRelease)}`
      : `/apps/${encodeURIComponent(app)}/releases?limit=1`;
    const answer = await this.rack.get(path, actor).catch(() => undefined);
    if (answer?.status === 404) return '';
    if (answer?.status !== 200)
      throw new BadGatewayException({ code: 'base_release_unavailable', message: 'could not read the release this change is based on' });
    const parsed = JSON.parse(answer.body) as { env?: unknown } | Array<{ env?: unknown }>;
    const release = Array.isArray(parsed) ? parsed[0] : parsed;
    return typeof release?.env === 'string' ? release.env : '';
  }
}
