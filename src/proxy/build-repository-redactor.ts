/** Build routes whose JSON carries `repository`, which the rack fills with a URL holding its password. */
const BUILD_JSON_ROUTE = /^\/apps\/[^/]+\/builds(?:\/(?!import$)[^/]+)?$/;

export function carriesBuildRepository(method: string, path: string): boolean {
  return method !== 'HEAD' && !path.endsWith('.tgz') && BUILD_JSON_ROUTE.test(path);
}

/**
 * `--external` builds answer with `repository: https://convox:<rack password>@api.<rack>/...` for
 * `docker push`. Point it at the gateway instead, without the password: the client pushes through the
 * gateway's `/v2/` proxy with its own token (`docker login <gateway>`). Any other stray copy of the rack
 * token in the body is masked as a last line of defence.
 */
export function redactBuildRepositories(body: string, rackToken: string, publicUrl: URL): string {
  let rewritten = body;
  try {
    const parsed = JSON.parse(body) as unknown;
    const builds = Array.isArray(parsed) ? parsed : [parsed];
    for (const build of builds) {
      if (build && typeof build === 'object' && typeof (build as { repository?: unknown }).repository === 'string') {
        const record = build as { repository: string };
        record.repository = rewriteRepository(record.repository, publicUrl);
      }
    }
    rewritten = `${JSON.stringify(parsed, null, 2)}\n`;
  } catch {
    // Not JSON (an error text, say): leave it to the mask below.
  }
  return rackToken ? rewritten.split(rackToken).join('********') : rewritten;
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
