import fastifyCookie from '@fastify/cookie';
import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifySession, { type FastifySessionOptions } from '@fastify/session';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerFactoryHandler } from 'fastify';
import helmet from 'helmet';
import { hkdfSync } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerOptions, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Logger } from 'nestjs-pino';
import { type DestinationStream, transport } from 'pino';
import { AppModule } from './app.module';
import { DatabaseSessionStore } from './auth/database-session.store';
import './auth/session.types';
import { registerGatewayBodyParser } from './common/gateway-body-parser';
import { isGatewayPath, isUiPath } from './common/gateway-paths';
import { rackRouteTableMarkdown } from './rbac/role-catalogue';
import type { GatewayConfig } from './config/gateway-config';
import { describeServerCertificate, httpsServerOptions } from './tls/server-certificate';

export const SESSION_COOKIE = 'rgw_session';

/** A client must finish its request head this soon after its first byte (or after connecting): the rack's own ReadHeaderTimeout. */
export const REQUEST_HEAD_TIMEOUT_MS = 30_000;
/** How often Node looks for overdue request heads; its 30 s default would let one linger to twice the timeout. */
export const REQUEST_HEAD_CHECK_INTERVAL_MS = 1_000;
/** Sent on every answer when the gateway is reached over HTTPS only (PUBLIC_URL https, or TLS here). */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** Where log lines go (tests capture them); LOG_FILE when set, else stdout. */
  readonly logDestination?: DestinationStream;
  /** Wraps the application module, e.g. to register one more pipeline stage; the gateway runs as it is without. */
  readonly wrapModule?: (appModule: DynamicModule) => DynamicModule;
}

/**
 * Builds the whole gateway: what cannot be a Nest provider (adapter, Fastify plugins, security headers,
 * the OpenAPI console) is wired here. main.ts and every end-to-end test go through this one function.
 */
export async function createGateway({ config, logDestination, wrapModule }: GatewayOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    serverFactory: (handler: FastifyServerFactoryHandler) => createGatewayServer(handler, config),
    // Rack paths are proxied verbatim; Fastify must not reject them for their length.
    routerOptions: { maxParamLength: 2048 },
    // For request.protocol: behind a TLS-terminating balancer, @fastify/session sets its Secure cookie
    // only when a trusted proxy's X-Forwarded-Proto says the browser came over HTTPS. Client
    // addresses are ClientAddress's, from the same list.
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
  });
  const appModule = AppModule.forRoot(config, logDestination ?? (config.logFile && rollingLogFile(config.logFile)));
  const app = await NestFactory.create<NestFastifyApplication>(wrapModule ? wrapModule(appModule) : appModule, adapter, {
    bufferLogs: true,
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  const logger = app.get(Logger);
  for (const warning of config.warnings) logger.warn(warning);
  if (config.http.tls) logger.log(`Serving HTTPS with ${describeServerCertificate(config.http.tls.certificate)}`);

  const fastify = app.getHttpAdapter().getInstance();
  registerGatewayBodyParser(fastify);
  registerPassportReplyShims(fastify);
  registerSecurityHeaders(fastify);

  // Signs the sign-in state cookie (auth/sign-in-state.ts) with a key of its own, derived from APP_SECRET_KEY.
  const signInCookieKey = Buffer.from(hkdfSync('sha256', config.sessions.secret, '', 'rgw sign-in state cookie', 32));
  await app.register(fastifyCookie, { secret: signInCookieKey.toString('base64url') });
  await registerGatewaySessions(fastify, {
    secret: config.sessions.secret,
    cookieName: SESSION_COOKIE,
    store: app.get<DatabaseSessionStore>(DatabaseSessionStore),
    saveUninitialized: false,
    rolling: true,
    cookie: {
      // The API and the pages under /ui/ both need it. Rack paths get it too but never read it: the
      // authentication guard accepts sessions on gateway paths only, and the proxy strips Cookie.
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.http.httpsOnly,
      maxAge: config.sessions.idleMs,
    },
  });
  await app.register(fastifyCsrfProtection, { sessionPlugin: '@fastify/session' });

  setUpOpenApi(app);
  await app.init();
  return app;
}

/**
 * LOG_FILE: lines are handed to pino-roll in a worker thread (pino's transport), so a request's line
 * costs the event loop a copy into shared memory, never a file write; the worker rolls the file daily
 * and at its size limit, keeps `keep` old ones, and is flushed when the process exits.
 */
function rollingLogFile({ path, maxSize, keep }: NonNullable<GatewayConfig['logFile']>): DestinationStream {
  return transport({
    target: 'pino-roll',
    options: { file: path, size: maxSize, frequency: 'daily', mkdir: true, limit: { count: keep } },
  });
}

/**
 * The HTTP server, or the HTTPS one with TLS_CERT_FILE, built here so its timeouts live in one place.
 * Only the request head and idle keep-alive are timed: a request timeout would cut an upload at a fixed
 * age and a socket timeout a promote the rack holds silent, so both stay off and the proxy times out a
 * silent rack instead. An upgraded websocket leaves all of Node's server timers behind.
 */
function createGatewayServer(handler: FastifyServerFactoryHandler, config: GatewayConfig): Server {
  const options: ServerOptions = {
    headersTimeout: REQUEST_HEAD_TIMEOUT_MS,
    connectionsCheckingInterval: REQUEST_HEAD_CHECK_INTERVAL_MS,
    requestTimeout: 0,
  };
  const { httpsOnly, tls } = config.http;
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    // HSTS is a policy for the whole host, and browsers meet rack paths too (`/`, a 401's Basic prompt).
    if (httpsOnly) response.setHeader('strict-transport-security', STRICT_TRANSPORT_SECURITY);
    // Absolute-form (`GET http://host/...`) and asterisk (`OPTIONS *`) targets name another host or
    // no path at all; the router would route the one by its path and answer the other 404.
    if (request.url?.charCodeAt(0) !== 0x2f /* / */) {
      refuseTarget(response);
      return;
    }
    handler(request, response);
  };
  const server = tls
    ? // A TLS handshake is held to the time a request head is, not Node's 120 s default.
      createHttpsServer({ ...options, ...httpsServerOptions(tls.certificate), handshakeTimeout: REQUEST_HEAD_TIMEOUT_MS }, onRequest)
    : createServer(options, onRequest);
  server.keepAliveTimeout = config.http.keepAliveTimeoutMs;
  server.setTimeout(0);
  return server;
}

function refuseTarget(response: ServerResponse): void {
  const body = 'invalid request target: the request target must be an absolute path\n';
  response.shouldKeepAlive = false;
  response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
}

/**
 * @fastify/session with its hooks on the gateway's own paths only. With the cookie scoped to `/`, the
 * plugin would otherwise load the session of every proxied request a browser sends, and build one for
 * every other (a random id, an HMAC and a hash: about 30 µs here, a third of a proxied GET's CPU).
 */
async function registerGatewaySessions(fastify: FastifyInstance, options: FastifySessionOptions): Promise<void> {
  type Hook = (this: FastifyInstance, request: FastifyRequest, ...rest: unknown[]) => unknown;
  const onGatewayPathsOnly = new Proxy(fastify, {
    get(target, property, receiver) {
      if (property !== 'addHook') return Reflect.get(target, property, receiver) as unknown;
      return (name: 'onRequest', hook: Hook) =>
        target.addHook(name, function gatewayPathsOnly(this: FastifyInstance, request: FastifyRequest, ...rest: unknown[]) {
          if (isGatewayPath(request.url)) return hook.call(this, request, ...rest);
          // Callback-style hooks: the last argument is `done`.
          (rest[rest.length - 1] as () => void)();
        } as never);
    },
  });
  await new Promise<void>((resolve, reject) => fastifySession(onGatewayPathsOnly, options, (error) => (error ? reject(error) : resolve())));
}

/** passport redirects through Node's response API, which a Fastify reply lacks. */
function registerPassportReplyShims(fastify: FastifyInstance): void {
  fastify.decorateReply('setHeader', function setHeader(this: FastifyReply, name: string, value: string) {
    this.header(name, value);
  });
  fastify.decorateReply('end', function end(this: FastifyReply, body?: string) {
    void this.send(body);
  });
}

/**
 * What the pages under /ui/ may load: their own script and stylesheet, the QR code (a data URL), calls
 * to the gateway. Nothing inline, nothing from elsewhere, not framed, forms posted only here.
 */
const PAGE_CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * Browser-facing security headers on the gateway's own pages and API; rack answers pass untouched.
 * Strict-Transport-Security is not helmet's to send: the server puts it on every answer, rack paths
 * included, and only when the gateway is reached over HTTPS. The pages get a strict CSP, and are never
 * stored: they carry CSRF tokens, TOTP secrets, backup codes.
 */
function registerSecurityHeaders(fastify: FastifyInstance): void {
  const applyHelmet = helmet({ strictTransportSecurity: false });
  const applyPageHelmet = helmet({
    strictTransportSecurity: false,
    contentSecurityPolicy: { useDefaults: false, directives: PAGE_CONTENT_SECURITY_POLICY },
    xFrameOptions: { action: 'deny' },
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!isGatewayPath(request.url)) {
      done();
      return;
    }
    const onPage = isUiPath(request.url);
    if (onPage) void reply.header('cache-control', 'no-store');
    (onPage ? applyPageHelmet : applyHelmet)(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
}

function setUpOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('api/docs', app, createOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs/openapi.json',
    yamlDocumentUrl: 'api/docs/openapi.yaml',
  });
}

/** The gateway's OpenAPI document, from its decorators and the rack route table; committed as openapi.json. */
export function createOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Rack Gateway')
      .setDescription(
        [
          'Admin API of the Rack Gateway. Every other path is the Convox rack API, proxied with authorization:',
          'each rack route needs the permission below, and a route not listed is refused.',
          '',
          rackRouteTableMarkdown(),
        ].join('\n'),
      )
      .setVersion('1')
      .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', description: 'Browser session from Google sign-in' }, 'session')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Gateway API token (rgw_...)' }, 'token')
      .addBasicAuth(
        { type: 'http', scheme: 'basic', description: 'Gateway API token as the password, any user name (the convox CLI)' },
        'token-basic',
      )
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when it is set (GET /api/v1/metrics only)' },
        'metrics-token',
      )
      .build(),
  );
}
