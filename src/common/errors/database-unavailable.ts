import { ServiceUnavailableException } from '@nestjs/common';
import type { CarriesAnswerHeaders } from './answer-headers';

/** Seconds a caller is asked to wait: the pool gives up on a connection within five. */
const RETRY_AFTER_SECONDS = 5;

/** The gateway could not reach its database: nothing the caller sent was wrong, and it may try again shortly. */
export class DatabaseUnavailableError extends ServiceUnavailableException implements CarriesAnswerHeaders {
  readonly answerHeaders = { 'retry-after': String(RETRY_AFTER_SECONDS) };

  constructor() {
    super({ code: 'database_unavailable', message: 'the gateway cannot reach its database; try again shortly' });
  }
}

/** Socket failures of the connection to the server (node's codes). */
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * SQLSTATEs of a connection that failed or a server going away or not taking connections. Not all of
 * class 08: a protocol violation (08P01) is a fault of what was sent, not of the database's reach.
 */
const UNAVAILABLE_STATES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300']);
/** What pg and its pool say when a connection ends or never comes; they carry no code. */
const CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * Whether an error from pg or TypeORM means the database could not be reached or dropped the
 * connection, rather than that a query was wrong: the first is a 503 to try again, the second a 500.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // TypeORM wraps a failed query's driver error; a connection the pool could not make arrives bare.
  // (Shape, not instanceof: errors node's sockets raise come from another realm under test runners.)
  const cause = (error as { driverError?: unknown }).driverError ?? error;
  const { code, message } = cause as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return false;
  if (typeof code === 'string' && (SOCKET_ERRORS.has(code) || UNAVAILABLE_STATES.has(code))) return true;
  return CONNECTION_MESSAGES.test(message);
}

/** The error a caller is told of: a DatabaseUnavailableError for an unreachable database, else `error` itself. */
export function asCallerError(error: unknown): unknown {
  return isDatabaseUnreachable(error) ? new DatabaseUnavailableError() : error;
}
