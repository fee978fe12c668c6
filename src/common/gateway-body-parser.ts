import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { readBoundedBody } from './bounded-body';
import { isGatewayPath } from './gateway-paths';
import { exceedsNestingDepth } from './json-depth';

/** The gateway's own API takes small JSON documents; anything bigger is a mistake or an attack. */
const GATEWAY_BODY_LIMIT_BYTES = 1024 * 1024;
/**
 * The deepest body the API takes nests 2 levels (a user's appScopes); the recursive walkers after the
 * parser (class-transformer, class-validator) overflow the stack at about 1,500, answering 500.
 */
const GATEWAY_BODY_MAX_DEPTH = 32;

class BodyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

function isJson(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';', 1)[0].trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType?.startsWith('application/') === true && mediaType.endsWith('+json'));
}

/**
 * One content-type parser for everything. On proxied paths it reads nothing, so the raw request stays
 * an unread stream for http-proxy (a multi-gigabyte upload is never buffered). On the gateway's API it
 * reads JSON, up to a size and a nesting depth, with Fastify's own prototype-poisoning-safe parser.
 */
export function registerGatewayBodyParser(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    '*',
    (request: FastifyRequest, payload: IncomingMessage, done: (error: Error | null, body?: unknown) => void) => {
      if (!isGatewayPath(request.url)) {
        done(null);
        return;
      }
      if (!isJson(request.headers['content-type'])) {
        payload.resume();
        done(new BodyError(415, 'the gateway API accepts application/json bodies only'));
        return;
      }
      readBoundedBody(payload, GATEWAY_BODY_LIMIT_BYTES).then((body) => {
        const text = body.toString('utf8');
        if (text.length === 0) {
          done(null, undefined);
          return;
        }
        if (exceedsNestingDepth(text, GATEWAY_BODY_MAX_DEPTH)) {
          done(new BodyError(400, `JSON body is nested deeper than ${GATEWAY_BODY_MAX_DEPTH} levels`));
          return;
        }
        void parseJson(request, text, (error, parsed) =>
          done(error ? new BodyError(400, `malformed JSON body: ${error.message}`) : null, parsed),
        );
      }, done);
    },
  );
}
