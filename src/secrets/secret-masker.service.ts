import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { RackBehaviours } from '../proxy/rack-behaviours';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import type { AnswerFilter } from '../rbac/rack-route-table';
import { type EnvMasking, MASK, SecretRule, maskEnv, maskParameters } from './secret-values';

type Json = Record<string, unknown>;
type MaskedAnswer = Exclude<AnswerFilter, 'builds'>;

const MASKED_ANSWERS: readonly MaskedAnswer[] = ['app-list', 'apps', 'releases', 'registries', 'resources', 'configs', 'secret-fields'];

/** The config the convox CLI reads to decide which keys `convox env` masks locally: not a secret. */
const CLI_ENV_MASK_CONFIG = 'cli-env-mask';

/**
 * Rewrites rack answers for callers who may not see all of them: secret values masked, apps outside
 * the caller's scope removed from lists. Answers are only read when the caller needs rewriting.
 */
@Injectable()
export class SecretMasker implements OnModuleInit {
  private readonly rule: SecretRule;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly behaviours: RackBehaviours,
  ) {
    this.rule = new SecretRule(config.secrets.extraKeyPatterns);
  }

  onModuleInit(): void {
    for (const filter of MASKED_ANSWERS) {
      this.behaviours.provideAnswerFilter(filter, {
        applies: (request) => this.needsRewrite(filter, request),
        filter: (parsed, request) => this.rewrite(filter, parsed, request),
      });
    }
  }

  /** Whether this caller's answer must be read and rewritten; when not, it streams through untouched. */
  private needsRewrite(filter: MaskedAnswer, request: AllowedRackRequest): boolean {
    if (filter === 'app-list' && !request.ability.can('read', 'apps', { app: undefined })) return true;
    return !request.ability.can('read', 'secrets', { app: request.app });
  }

  private rewrite(filter: MaskedAnswer, parsed: unknown, request: AllowedRackRequest): unknown {
    const items = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
    const records = items.filter((item): item is Json => item !== null && typeof item === 'object');
    const secretsVisible = (app: string | undefined) => request.ability.can('read', 'secrets', { app });
    switch (filter) {
      case 'app-list': {
        const visible = records.filter((app) => typeof app.name === 'string' && request.ability.can('read', 'apps', { app: app.name }));
        return visible.map((app) => (secretsVisible(app.name as string) ? app : this.maskApp(app)));
      }
      case 'apps':
        records.forEach((app) => Object.assign(app, this.maskApp(app)));
        return parsed;
      case 'releases':
        for (const release of records) {
          const app = typeof release.app === 'string' ? release.app : request.app;
          if (typeof release.env === 'string') release.env = maskEnv(release.env, this.envMasking(request, app), this.rule);
        }
        return parsed;
      case 'registries':
        for (const registry of records) if (typeof registry.password === 'string' && registry.password) registry.password = MASK;
        return parsed;
      case 'resources':
        for (const resource of records) {
          if (typeof resource.url === 'string' && resource.url) resource.url = MASK;
          resource.parameters = maskParameters(resource.parameters, this.rule);
        }
        return parsed;
      case 'configs':
        for (const config of records) if (config.name !== CLI_ENV_MASK_CONFIG && typeof config.value === 'string') config.value = MASK;
        return parsed;
      case 'secret-fields':
        for (const record of records)
          for (const field of ['private-key', 'token']) if (typeof record[field] === 'string') record[field] = MASK;
        return parsed;
    }
  }

  private envMasking(request: AllowedRackRequest, app: string | undefined): EnvMasking {
    if (request.ability.can('read', 'secrets', { app })) return 'none';
    return request.ability.can('read', 'env', { app }) ? 'secrets' : 'all';
  }

  private maskApp(app: Json): Json {
    return { ...app, parameters: maskParameters(app.parameters, this.rule) };
  }
}
