import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_MOCK_IDENTITY,
  KNOWN_SCOPES,
  grantsEmail,
  grantsProfile,
  resolveAccount,
  unsignedIdToken,
  userinfoClaims,
} from './google-account';
import { ACCESS_TOKEN_LIFETIME_SECONDS, GrantStore, type CodeChallenge } from './grant-store';
import {
  errorPage,
  jsonAnswer,
  readBody,
  redirectAnswer,
  parseParams,
  writeAnswer,
  type Answer,
  type ParamLookup,
  type Params,
} from './http-exchange';
import type { ClientAuthMethod, MockIdentity, MockOAuthProvider, MockOAuthProviderOptions, MockOAuthRequest } from './mock-oauth.types';

// Google's own paths; GOOGLE_OAUTH_BASE_URL swaps only the origin. `/token` is the current
// oauth2.googleapis.com path, served too so either spelling of the token URL works.
const AUTHORIZATION_PATH = '/o/oauth2/v2/auth';
const TOKEN_PATHS = new Set(['/oauth2/v4/token', '/token']);
const USERINFO_PATH = '/oauth2/v3/userinfo';

const FORM_BODY_LIMIT_BYTES = 64 * 1024;
// RFC 6749 section 5.1: token responses must not be cached.
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

type LoginOutcome = { kind: 'login'; identity: MockIdentity } | { kind: 'denial' };

type ClientCheck = { ok: true; id: string; method: ClientAuthMethod } | { ok: false; answer: Answer };

const tokenError = (status: number, error: string, description: string, headers: Record<string, string> = {}): Answer =>
  jsonAnswer(status, { error, error_description: description }, { ...NO_STORE, ...headers });

export async function startMockOAuthProvider(options: MockOAuthProviderOptions): Promise<MockOAuthProvider> {
  if (options.clientId === '' || options.clientSecret === '') throw new TypeError('clientId and clientSecret must not be empty');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const provider = new MockAuthorizationServer(server, `http://127.0.0.1:${port}`, options);
  server.on('request', (req, res) => {
    void provider.handle(req).then((answer) => writeAnswer(res, answer));
  });
  return provider;
}

class MockAuthorizationServer implements MockOAuthProvider {
  private readonly redirectUris = new Set<string>();
  private readonly outcomes: LoginOutcome[] = [];
  private readonly journal: MockOAuthRequest[] = [];
  private readonly grants: GrantStore;
  private readonly clock: () => number;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: MockOAuthProviderOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.grants = new GrantStore(this.clock);
    for (const uri of options.redirectUris) this.allowRedirectUri(uri);
  }

  queueLogin(identity: MockIdentity): void {
    if (!identity.email.includes('@')) throw new TypeError(`queueLogin needs an email address, got "${identity.email}"`);
    this.outcomes.push({ kind: 'login', identity: { ...identity } });
  }

  queueDenial(): void {
    this.outcomes.push({ kind: 'denial' });
  }

  allowRedirectUri(uri: string): void {
    // RFC 6749 section 3.1.2: a redirection URI is absolute and has no fragment.
    if (!URL.canParse(uri) || new URL(uri).hash !== '') throw new TypeError(`Not an absolute redirect URI without a fragment: "${uri}"`);
    this.redirectUris.add(uri);
  }

  requests(): MockOAuthRequest[] {
    return structuredClone(this.journal);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error === undefined ? resolve() : reject(error)));
      // close() alone waits for in-flight requests, and a stalled one would hold the test run open.
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  async handle(req: IncomingMessage): Promise<Answer> {
    const url = new URL(req.url ?? '/', this.url);
    const query = parseParams(url.searchParams);
    const entry: MockOAuthRequest = { method: req.method ?? 'GET', path: url.pathname, query: query.values, status: 0 };
    this.journal.push(entry);
    let answer: Answer;
    try {
      answer = await this.route(req, entry, query);
    } catch (error) {
      answer = jsonAnswer(500, { error: 'server_error', error_description: String(error) });
    }
    entry.status = answer.status;
    return answer;
  }

  private async route(req: IncomingMessage, entry: MockOAuthRequest, query: Params): Promise<Answer> {
    const method = entry.method;
    if (entry.path === AUTHORIZATION_PATH) return method === 'GET' ? this.authorize(query) : methodNotAllowed('GET');
    if (TOKEN_PATHS.has(entry.path)) return method === 'POST' ? this.exchangeCode(req, entry) : methodNotAllowed('POST');
    if (entry.path === USERINFO_PATH) return method === 'GET' ? this.userinfo(req.headers, query, entry) : methodNotAllowed('GET');
    return jsonAnswer(404, { error: 'not_found', error_description: `The mock serves no ${entry.path}` });
  }

  private authorize(query: Params): Answer {
    const params: ParamLookup = query.values;
    // Client and redirect URI are checked before anything is sent back to the redirect URI:
    // redirecting to an unverified URI would make the provider an open redirector.
    if (query.repeated.includes('client_id') || params.client_id !== this.options.clientId) {
      return errorPage(400, 'invalid_client', `The OAuth client was not found: ${params.client_id ?? '(missing client_id)'}`);
    }
    const redirectUri = params.redirect_uri;
    if (query.repeated.includes('redirect_uri') || redirectUri === undefined || !this.redirectUris.has(redirectUri)) {
      return errorPage(400, 'redirect_uri_mismatch', `redirect_uri is not registered for this client: ${redirectUri ?? '(missing)'}`);
    }
    const request = validateAuthorizationRequest(query);
    if (!request.ok) return errorPage(400, request.error, request.description);

    const back = new URL(redirectUri);
    back.searchParams.set('state', request.state);
    const outcome = this.outcomes.shift() ?? { kind: 'login', identity: this.options.defaultIdentity ?? DEFAULT_MOCK_IDENTITY };
    if (outcome.kind === 'denial') {
      back.searchParams.set('error', 'access_denied');
      return redirectAnswer(back.href);
    }
    const code = this.grants.issueCode({
      account: resolveAccount(outcome.identity),
      clientId: this.options.clientId,
      redirectUri,
      scopes: request.scopes,
      nonce: request.nonce,
      codeChallenge: request.codeChallenge,
    });
    back.searchParams.set('code', code);
    back.searchParams.set('scope', request.scopes.join(' '));
    return redirectAnswer(back.href);
  }

  private async exchangeCode(req: IncomingMessage, entry: MockOAuthRequest): Promise<Answer> {
    const body = await readBody(req, FORM_BODY_LIMIT_BYTES);
    if (body === undefined) return tokenError(413, 'invalid_request', 'Request body too large.');
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (mediaType !== 'application/x-www-form-urlencoded') {
      return tokenError(400, 'invalid_request', 'Expected an application/x-www-form-urlencoded body.');
    }
    const form = parseParams(new URLSearchParams(body));
    const fields: ParamLookup = form.values;
    entry.form = Object.fromEntries(Object.entries(form.values).filter(([name]) => name !== 'client_secret'));
    if (form.repeated.length > 0) return tokenError(400, 'invalid_request', `Repeated parameters: ${form.repeated.join(', ')}`);

    const client = this.authenticateClient(req.headers.authorization, fields);
    if (!client.ok) return client.answer;
    entry.client = { id: client.id, method: client.method };

    const { grant_type: grantType, code } = fields;
    if (grantType === undefined || code === undefined) return tokenError(400, 'invalid_request', 'grant_type and code are required.');
    if (grantType !== 'authorization_code') return tokenError(400, 'unsupported_grant_type', `Unsupported grant_type: ${grantType}`);
    const result = this.grants.redeemCode(code, {
      clientId: client.id,
      redirectUri: fields.redirect_uri,
      codeVerifier: fields.code_verifier,
    });
    if (!result.ok) return tokenError(400, 'invalid_grant', result.reason);
    return jsonAnswer(
      200,
      {
        access_token: result.accessToken,
        expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
        token_type: 'Bearer',
        scope: result.access.scopes.join(' '),
        id_token: unsignedIdToken(result.access.account, result.access.scopes, this.url, {
          issuer: this.url,
          clientId: client.id,
          issuedAtMs: result.access.issuedAtMs,
          lifetimeSeconds: ACCESS_TOKEN_LIFETIME_SECONDS,
          nonce: result.grant.nonce,
        }),
      },
      NO_STORE,
    );
  }

  private authenticateClient(authorization: string | undefined, form: ParamLookup): ClientCheck {
    const unauthorized = (description: string, headers: Record<string, string> = {}): ClientCheck => ({
      ok: false,
      answer: tokenError(401, 'invalid_client', description, headers),
    });
    if (authorization !== undefined) {
      const basic = /^Basic\s+(\S+)$/i.exec(authorization);
      const challenge = { 'www-authenticate': 'Basic realm="mock-oauth"' };
      if (basic === null) return unauthorized('Only HTTP Basic client authentication is accepted in Authorization.', challenge);
      // RFC 6749 section 2.3: a client must not use more than one authentication method per request.
      if (form.client_secret !== undefined) {
        return { ok: false, answer: tokenError(400, 'invalid_request', 'Client credentials sent both in Authorization and in the body.') };
      }
      const credentials = decodeBasicCredentials(basic[1]);
      if (credentials === undefined || (form.client_id !== undefined && form.client_id !== credentials.id)) {
        return unauthorized('Malformed Basic client credentials.', challenge);
      }
      return this.isClient(credentials.id, credentials.secret)
        ? { ok: true, id: credentials.id, method: 'client_secret_basic' }
        : unauthorized('Unauthorized', challenge);
    }
    if (form.client_id === undefined || form.client_secret === undefined) return unauthorized('Client authentication is required.');
    return this.isClient(form.client_id, form.client_secret)
      ? { ok: true, id: form.client_id, method: 'client_secret_post' }
      : unauthorized('Unauthorized');
  }

  private isClient(id: string, secret: string): boolean {
    return id === this.options.clientId && secret === this.options.clientSecret;
  }

  private userinfo(headers: IncomingHttpHeaders, query: Params, entry: MockOAuthRequest): Answer {
    const challenge = { 'www-authenticate': 'Bearer realm="mock-oauth"' };
    const header = headers.authorization;
    const fromHeader = header === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    // passport-google-oauth20 sends the token as ?access_token= (node-oauth's default for GET); Google
    // accepts that as well as the header, so the mock must too.
    const lookup: ParamLookup = query.values;
    const fromQuery = lookup.access_token;
    if (header !== undefined && fromHeader === undefined) return tokenError(401, 'invalid_request', 'Invalid Credentials', challenge);
    if (fromHeader !== undefined && fromQuery !== undefined) {
      return tokenError(400, 'invalid_request', 'Access token sent both in Authorization and in the query.');
    }
    const token = fromHeader ?? fromQuery;
    if (token === undefined) return tokenError(401, 'invalid_request', 'Invalid Credentials', challenge);
    entry.accessTokenIn = fromHeader === undefined ? 'query' : 'header';
    const access = this.grants.findAccess(token);
    if (access === undefined) return tokenError(401, 'invalid_token', 'Invalid Credentials', challenge);
    return jsonAnswer(200, userinfoClaims(access.account, access.scopes, this.url));
  }
}

type AuthorizationRequest =
  | { ok: true; state: string; scopes: string[]; nonce?: string; codeChallenge?: CodeChallenge }
  | { ok: false; error: string; description: string };

function validateAuthorizationRequest(query: Params): AuthorizationRequest {
  const params: ParamLookup = query.values;
  const invalid = (error: string, description: string): AuthorizationRequest => ({ ok: false, error, description });
  if (query.repeated.length > 0) return invalid('invalid_request', `Repeated parameters: ${query.repeated.join(', ')}`);
  if (params.response_type !== 'code') {
    return invalid('unsupported_response_type', `response_type must be "code", got ${params.response_type ?? '(missing)'}`);
  }
  if (params.scope === undefined) return invalid('invalid_request', 'Missing required parameter: scope');
  const scopes = params.scope.split(' ').filter((scope) => scope !== '');
  const unknown = scopes.filter((scope) => !KNOWN_SCOPES.has(scope));
  if (unknown.length > 0) return invalid('invalid_scope', `Unknown scopes: ${unknown.join(' ')}`);
  if (!grantsEmail(scopes) || !(grantsProfile(scopes) || scopes.includes('openid'))) {
    return invalid('invalid_scope', 'The gateway must ask for email and profile (or openid).');
  }
  // Google treats state as optional; the mock does not, so a login flow without CSRF protection
  // fails its tests instead of passing silently.
  if (params.state === undefined || params.state === '') return invalid('invalid_request', 'Missing required parameter: state');
  const { code_challenge: challenge, code_challenge_method: method = 'plain' } = params;
  if (challenge === undefined && params.code_challenge_method !== undefined) {
    return invalid('invalid_request', 'code_challenge_method sent without code_challenge.');
  }
  if (method !== 'S256' && method !== 'plain') return invalid('invalid_request', `Unsupported code_challenge_method: ${method}`);
  return {
    ok: true,
    state: params.state,
    scopes,
    nonce: params.nonce,
    codeChallenge: challenge === undefined ? undefined : { value: challenge, method },
  };
}

// RFC 6749 section 2.3.1: Basic credentials are form-urlencoded before base64.
function decodeBasicCredentials(encoded: string): { id: string; secret: string } | undefined {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const formDecode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

const methodNotAllowed = (allow: string): Answer => jsonAnswer(405, { error: 'method_not_allowed' }, { allow });
