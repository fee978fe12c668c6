import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { Server as TlsServer } from 'node:tls';
import { createGateway } from './bootstrap';
import { InvalidConfigurationError } from './config/environment-variables';
import { GatewayConfig, loadGatewayConfig } from './config/gateway-config';
import { Draining } from './health/draining';
import { type ServerCertificateFiles, reloadServerCertificate } from './tls/server-certificate';

function loadConfigOrExit(): GatewayConfig {
  try {
    return loadGatewayConfig();
  } catch (error) {
    if (error instanceof InvalidConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** Past the grace period, how long closing may take (requests finishing, the audit queue) before the process gives up. */
const CLOSE_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createGateway({ config });
  await app.listen(config.http.port, config.http.host);
  stopOnSignals(app, config.http.shutdownGraceMs);
  if (config.http.tls) reloadCertificateOnHangUp(app, config.http.tls.files);
}

/**
 * SIGHUP, with TLS here: the certificate and key are read again and new connections get them; open
 * ones (websockets, keep-alive) carry on. Without TLS the signal keeps its default: it ends the process.
 */
function reloadCertificateOnHangUp(app: NestFastifyApplication, files: ServerCertificateFiles): void {
  const server: unknown = app.getHttpServer();
  if (!(server instanceof TlsServer)) throw new Error('TLS_CERT_FILE is set but the gateway is not serving HTTPS');
  process.on('SIGHUP', () => reloadServerCertificate(server, files, app.get(Logger)));
}

/**
 * SIGTERM or SIGINT: readiness fails at once, so the load balancer stops sending; after the grace
 * period the application closes (no new connections, requests in flight finish, open websocket
 * sessions are told the gateway is shutting down, the audit queue is written) and the process exits
 * 0. A second signal, or a close that hangs, ends it at once with 1: shutdown always finishes.
 */
function stopOnSignals(app: NestFastifyApplication, graceMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    const logger = app.get(Logger);
    logger.log(`${signal}: not ready from now; closing in ${graceMs} ms`);
    app.get(Draining).start();
    setTimeout(() => process.exit(1), graceMs + CLOSE_TIMEOUT_MS).unref();
    setTimeout(() => {
      app.close().then(
        () => process.exit(0),
        (error: Error) => {
          logger.error(`shutdown failed: ${error.stack ?? error.message}`);
          process.exit(1);
        },
      );
    }, graceMs);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
