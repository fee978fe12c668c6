import fastifyCookie from '@fastify/cookie';
import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifySession from '@fastify/session';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply } from 'fastify';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { DatabaseSessionStore } from './auth/database-session.store';
import './auth/session.types';
import { registerGatewayBodyParser } from './common/gateway-body-parser';
import { isGatewayPath } from './common/gateway-paths';
import { rackRouteTableMarkdown } from './rbac/role-catalogue';
import type { GatewayConfig } from './config/gateway-config';

export const SESSION_COOKIE = 'rgw_session';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** Where log lines go (tests capture them); stdout by default. */
  readonly logDestination?: DestinationStream;
}

/**
 * Builds the whole gateway: what cannot be a Nest provider (adapter, Fastify plugins, security headers,
 * the OpenAPI console) is wired here. main.ts and every end-to-end test go through this one function.
 */
export async function createGateway({ config, logDestination }: GatewayOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // Uploads and promotes run as long as they run; the proxy applies idle timeouts instead.
    requestTimeout: 0,
    connectionTimeout: 0,
    // Rack paths are proxied verbatim; Fastify must not reject them for their length.
    routerOptions: { maxParamLength: 2048 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logDestination), adapter, {
    bufferLogs: true,
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  const logger = app.get(Logger);
  for (const warning of config.warnings) logger.warn(warning);

  const fastify = app.getHttpAdapter().getInstance();
  registerGatewayBodyParser(fastify);
  registerPassportReplyShims(fastify);
  registerSecurityHeaders(fastify);

  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: config.sessions.secret,
    cookieName: SESSION_COOKIE,
    store: app.get<DatabaseSessionStore>(DatabaseSessionStore),
    saveUninitialized: false,
    rolling: true,
    cookie: {
      // Sessions exist for the gateway's API only; rack paths never read or set them.
      path: '/api/',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.http.publicUrl.startsWith('https:'),
      maxAge: config.sessions.idleMs,
    },
  });
  await app.register(fastifyCsrfProtection, { sessionPlugin: '@fastify/session' });

  setUpOpenApi(app);
  await app.init();
  return app;
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

/** Browser-facing security headers on the gateway's own pages and API; rack answers pass untouched. */
function registerSecurityHeaders(fastify: FastifyInstance): void {
  const applyHelmet = helmet();
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!isGatewayPath(request.url)) {
      done();
      return;
    }
    applyHelmet(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
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
      .build(),
  );
}
