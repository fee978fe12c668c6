import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isGatewayPath, isUiPath } from '../gateway-paths';
import { answerHeadersOf } from './answer-headers';
import { answerPageOf } from './answer-page';
import { asCallerError } from './database-unavailable';
import { errorPage } from './error-page';
import { RequestRefusals } from './request-refusals';
import { problemDetails } from './problem-details';
import { BASIC_CHALLENGE, rackErrorBody } from './rack-error-body';

interface NormalisedError {
  status: number;
  code: string;
  message: string;
  errors?: string[];
  /** RFC 9457 extension members, for the API's answer only (the open request a 409 refers to). */
  extensions?: Record<string, unknown>;
}

const DEFAULT_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

function normalise(exception: unknown): NormalisedError {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'object' && response !== null) {
      const { code, message, extensions } = response as { code?: unknown; message?: unknown; extensions?: Record<string, unknown> };
      // class-validator failures arrive as a list of messages.
      if (Array.isArray(message)) {
        return {
          status,
          code: typeof code === 'string' ? code : 'validation_failed',
          message: 'request validation failed',
          errors: message.map(String),
        };
      }
      return {
        status,
        code: typeof code === 'string' ? code : (DEFAULT_CODES[status] ?? 'error'),
        message: typeof message === 'string' ? message : exception.message,
        ...(extensions ? { extensions } : {}),
      };
    }
    return { status, code: DEFAULT_CODES[status] ?? 'error', message: String(response) };
  }
  // Errors Fastify raises itself (body too large, bad JSON, unsupported media type) carry a statusCode.
  const fastifyError = exception as { statusCode?: unknown; message?: unknown; code?: unknown };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return {
      status: fastifyError.statusCode,
      code: DEFAULT_CODES[fastifyError.statusCode] ?? 'bad_request',
      message: typeof fastifyError.message === 'string' ? fastifyError.message : 'bad request',
    };
  }
  return { status: 500, code: 'internal_error', message: 'internal error' };
}

/**
 * One place that turns every error into the shape its caller reads: the rack's own error format on
 * proxied paths (so the convox CLI prints it), RFC 9457 problem+json on the gateway's API, an HTML
 * page on its pages under /ui/.
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GatewayExceptionFilter.name);

  constructor(private readonly refusals: RequestRefusals) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const exception = asCallerError(thrown);
    const error = normalise(exception);
    if (exception !== thrown) this.logger.warn(`database unreachable: ${(thrown as Error).message}`);
    else if (error.status >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    this.refusals.report({ request, status: error.status, reason: error.message });

    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    const answerHeaders = answerHeadersOf(exception);
    if (answerHeaders) reply.headers(answerHeaders);
    if (isUiPath(request.url)) {
      reply
        .status(error.status)
        .header('content-type', 'text/html; charset=utf-8')
        .send(answerPageOf(exception) ?? errorPage(error.status, error.message, error.errors));
      return;
    }
    if (isGatewayPath(request.url)) {
      reply
        .status(error.status)
        .header('content-type', 'application/problem+json')
        .send({ ...error.extensions, ...problemDetails(error.status, error.code, error.message, error.errors) });
      return;
    }
    const { headers, body } = rackErrorBody(error.status, error.message, request.headers);
    if (error.status === 401) reply.header('www-authenticate', BASIC_CHALLENGE);
    reply.status(error.status).headers(headers).send(body);
  }
}
