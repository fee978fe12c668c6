import { BadGatewayException, BadRequestException, Inject, Injectable, OnModuleInit, PayloadTooLargeException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal';
import { BodyTooLargeError, readBoundedBody } from '../common/bounded-body';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { RackBehaviours, type RackRequestRewrite, type RewrittenRackRequest } from '../proxy/rack-behaviours';
import { RackClient } from '../rack/rack-client';
import { parseRackJson } from '../rack/rack-json';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import { PermissionDeniedError } from '../rbac/rbac.errors';
import { type EnvKeyChanges, changesEnv, reconcileEnv } from './env-reconciliation';

/** A release form is the environment plus a few fields; a larger body is not a release. */
const MAX_RELEASE_FORM_BYTES = 1024 * 1024;
/** Keys of each kind (added, changed, removed) an audit record names at most, each cut to this length. */
const MAX_RECORDED_KEYS = 200;
const MAX_RECORDED_KEY_LENGTH = 200;
const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/**
 * `POST /apps/{app}/releases` carries the app's whole environment. Before it reaches the rack, masked
 * values are restored from the release it is based on, protected keys are held, and any real change
 * needs env:update. The rewritten form is what the rack receives; the audit intent records which keys
 * it adds, changes and removes (names only: values never reach the trail).
 *
 * The rack reads `env` as Go's `FormValue` does: from a urlencoded or multipart body, else from the
 * query. The gateway reads the urlencoded body only, so it refuses the other two places outright.
 */
@Injectable()
export class ReleaseEnvPolicy implements RackRequestRewrite, OnModuleInit {
  constructor(
    private readonly rack: RackClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly behaviours: RackBehaviours,
  ) {}

  onModuleInit(): void {
    this.behaviours.provideRequestRewrite('release-env', this);
  }

  async rewrite(request: IncomingMessage, decision: AllowedRackRequest, principal: Principal): Promise<RewrittenRackRequest> {
    if (decision.target.query !== null && queryNamesEnv(decision.target.query)) {
      throw new BadRequestException({ code: 'env_in_query', message: 'a release environment is sent in the form body, not the query' });
    }
    const body = await readBoundedBody(request, MAX_RELEASE_FORM_BYTES).catch((error: Error) => {
      throw error instanceof BodyTooLargeError
        ? new PayloadTooLargeException({
            code: 'release_form_too_large',
            message: `a release form may not exceed ${MAX_RELEASE_FORM_BYTES} bytes`,
          })
        : error;
    });
    if (body.length > 0 && mediaType(request.headers['content-type']) !== FORM_MEDIA_TYPE) {
      throw new BadRequestException({ code: 'release_form_expected', message: `a release is created from a ${FORM_MEDIA_TYPE} body` });
    }
    const form = new URLSearchParams(body.toString('utf8'));
    const posted = form.get('env');
    const app = decision.app;
    if (posted === null || app === undefined) return { body };

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
    if (changesEnv(result.changes) && !decision.ability.can('update', 'env', { app })) {
      throw new PermissionDeniedError(`permission denied: env:update on app ${app}`);
    }
    form.set('env', result.env);
    return { body: Buffer.from(form.toString()), recorded: { env: recordedChanges(result.changes) } };
  }

  private async baseEnv(app: string, parentRelease: string | null, actor: string): Promise<string> {
    const path = parentRelease
      ? `/apps/${encodeURIComponent(app)}/releases/${encodeURIComponent(parentRelease)}`
      : `/apps/${encodeURIComponent(app)}/releases?limit=1`;
    const answer = await this.rack.get(path, actor).catch(() => undefined);
    if (answer?.status === 404) return '';
    if (answer?.status !== 200)
      throw new BadGatewayException({ code: 'base_release_unavailable', message: 'could not read the release this change is based on' });
    const parsed = parseRackJson(answer.body);
    // The named release, or the newest of the list (an app without releases has no env yet).
    const release: unknown = parentRelease
      ? parsed
      : Array.isArray(parsed)
        ? parsed.length === 0
          ? {}
          : (parsed[0] as unknown)
        : undefined;
    if (typeof release !== 'object' || release === null || Array.isArray(release))
      throw new BadGatewayException({ code: 'base_release_unavailable', message: 'could not read the release this change is based on' });
    const { env } = release as { env?: unknown };
    return typeof env === 'string' ? env : '';
  }
}

/** The changes as the audit trail keeps them: bounded, since a form may hold thousands of keys of any length. */
function recordedChanges(changes: EnvKeyChanges): Record<string, unknown> {
  const bounded = (keys: readonly string[]) => keys.slice(0, MAX_RECORDED_KEYS).map((key) => key.slice(0, MAX_RECORDED_KEY_LENGTH));
  const omitted = [changes.added, changes.changed, changes.removed].reduce(
    (sum, keys) => sum + Math.max(0, keys.length - MAX_RECORDED_KEYS),
    0,
  );
  return {
    added: bounded(changes.added),
    changed: bounded(changes.changed),
    removed: bounded(changes.removed),
    ...(omitted > 0 ? { omitted } : {}),
  };
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0].trim().toLowerCase();
}

/**
 * Whether a query could carry `env` to the rack. Go splits on `&` and skips pairs it cannot decode;
 * this reads every pair it can, splitting on `;` too, so anything Go could read as `env` is caught.
 */
function queryNamesEnv(query: string): boolean {
  for (const pair of query.split(/[&;]/)) {
    const rawKey = pair.split('=', 1)[0];
    let key: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    } catch {
      key = rawKey;
    }
    if (key.toLowerCase() === 'env') return true;
  }
  return false;
}
