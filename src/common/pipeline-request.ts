import type { FastifyRequest } from 'fastify';

/**
 * What the request pipeline's stages (guards, interceptors) read of a request. A Fastify request has
 * all of it; a websocket upgrade on a rack path, which never reaches Fastify's router, is given to the
 * same stages as an object with just these fields (proxy's RackUpgradeRequest). Stages that need more
 * (a session's CSRF check, a page form's fields) only ever see Fastify requests.
 */
export type PipelineRequest = Pick<
  FastifyRequest,
  | 'raw'
  | 'url'
  | 'method'
  | 'headers'
  | 'principal'
  | 'rackTarget'
  | 'rackDecision'
  | 'rackRefusal'
  | 'mfaLevel'
  | 'secondFactor'
  | 'deployApproval'
  | 'rackSettlement'
  | 'rackBody'
  | 'rackRewriteRecord'
> &
  Partial<Pick<FastifyRequest, 'session' | 'body'>>;
