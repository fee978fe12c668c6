/**
 * Something a pipeline stage reserved for one request before it was forwarded (a step of an approved
 * deploy), settled by how the rack answered: kept when the rack did it, given back otherwise. The proxy
 * holds the answer until it is settled, so the client never sees an outcome the gateway has not
 * recorded; if no answer comes (the rack is unreachable, either side hangs up), it settles with the
 * gateway's own status (502, 504) or 499 for a client that left. The stage that reserved it settles it
 * too when the request ends without reaching the proxy (a later stage refused it).
 */
export interface RackSettlement {
  /** Whether the rack's parsed JSON answer is needed (a new build's id), not only its status. */
  readonly readsAnswer: boolean;
  /**
   * Only the first call counts. `answer` is the rack's parsed JSON (before any filter), when asked for
   * and there is one.
   */
  settle(status: number, answer: unknown): Promise<void>;
}

/** The status a settlement is given when the client went away before the rack answered. */
export const CLIENT_CLOSED_REQUEST = 499;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a stage that reserved something for this request; the proxy settles it with the rack's answer. */
    rackSettlement?: RackSettlement;
    /** The body to forward instead of the request's own, when a stage had to read it (an approved build's form). */
    rackBody?: Buffer;
  }
}
