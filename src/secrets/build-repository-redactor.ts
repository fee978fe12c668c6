import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { RackBehaviours } from '../proxy/rack-behaviours';

/** Provides the `builds` answer filter: every caller's build answers, since any may carry the rack password. */
@Injectable()
export class BuildRepositoryRedactor implements OnModuleInit {
  private readonly publicUrl: URL;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly behaviours: RackBehaviours,
  ) {
    this.publicUrl = new URL(config.http.publicUrl);
  }

  onModuleInit(): void {
    this.behaviours.provideAnswerFilter('builds', {
      applies: () => true,
      filter: (parsed) => redactBuildRepositories(parsed, this.publicUrl),
    });
  }
}

/**
 * `--external` builds answer with `repository: https://convox:<rack password>@api.<rack>/...` for
 * `docker push`. Point it at the gateway instead, without the password: the client pushes through the
 * gateway's `/v2/` proxy with its own token (`docker login <gateway>`).
 */
export function redactBuildRepositories(parsed: unknown, publicUrl: URL): unknown {
  const builds = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  for (const build of builds) {
    if (build && typeof build === 'object' && typeof (build as { repository?: unknown }).repository === 'string') {
      const record = build as { repository: string };
      record.repository = rewriteRepository(record.repository, publicUrl);
    }
  }
  return parsed;
}

function rewriteRepository(repository: string, publicUrl: URL): string {
  try {
    const url = new URL(repository);
    url.password = '';
    url.protocol = publicUrl.protocol;
    url.host = publicUrl.host;
    return url.toString();
  } catch {
    return '********';
  }
}
