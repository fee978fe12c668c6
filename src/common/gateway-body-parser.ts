import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { readBoundedBody } from './bounded-body';
import { isGatewayPath, isUiPath } from './gateway-paths';
import { exceedsNestingDepth } from './json-depth';

/** The gateway's own API takes small JSON documents; anything bigger is a mistake or an attack. */
const GATEWAY_BODY_LIMIT_BYTES = 1024 * 1024;
/** A page's form carries a code and a few hidden fields. */
const FORM_BODY_LIMIT_BYTES = 16 * 1024;
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

function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0].trim().toLowerCase();
}

function isJson(contentType: string | undefined): boolean {
  const mediaType = mediaTypeOf(contentType);
  return mediaType === 'application/json' || (mediaType?.startsWith('application/') === true && mediaType.endsWith('+json'));
}

/**
 * One content-type parser for everything. On proxied paths it reads nothing, so the raw request stays
 * an unread stream for http-proxy (a multi-gigabyte upload is never buffered). On the gateway's API it
 * reads JSON, up to a size and a nesting depth, with Fastify's own prototype-poisoning-safe parser.
 * The pages under /ui/ post HTML forms, and take nothing else; the API takes no forms, which any other
 * site's page can send without asking the browser first.
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
      if (isUiPath(request.url)) {
        parseForm(request, payload, done);
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

function parseForm(request: FastifyRequest, payload: IncomingMessage, done: (error: Error | null, body?: unknown) => void): void {
  if (mediaTypeOf(request.headers['content-type']) !== 'application/x-www-form-urlencoded') {
    payload.resume();
    done(new BodyError(415, 'the gateway pages accept application/x-www-form-urlencoded forms only'));
    return;
  }
  readBoundedBody(payload, FORM_BODY_LIMIT_BYTES).then(
    // fromEntries defines each field as the object's own property: a field named __proto__ stays a field.
    (body) => done(null, Object.fromEntries(new URLSearchParams(body.toString('utf8')))),
    done,
  );
}
