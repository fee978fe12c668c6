import type { CookieSerializeOptions } from '@fastify/cookie';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const GOOGLE_CALLBACK_PATH = '/api/v1/auth/callback';

const COOKIE = 'rgw_sign_in';
/** Long enough to choose an account and pass Google's own second factor. */
const SIGN_IN_SECONDS = 600;

/** What a sign-in in progress must remember until Google sends the browser back. */
interface PendingSignIn {
  /** The OAuth `state` sent to Google, which must come back unchanged. */
  readonly handle: string;
  /** PKCE: proves to Google's token endpoint that this gateway started the sign-in. */
  readonly verifier: string;
  readonly returnTo: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The sign-in cookie of this exchange, for the state store; set by GoogleOAuthGuard. */
    signInState?: SignInStateCookie;
  }
}

/**
 * A sign-in's OAuth state in a signed, HttpOnly cookie scoped to the callback, instead of a session
 * row: starting a sign-in writes nothing to the database, so the sign-in page is no way to fill it,
 * and the callback may land on any gateway instance. Signed with a key of its own (bootstrap), so no
 * other cookie the gateway signs can pass for it.
 */
export class SignInStateCookie {
  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly secure: boolean,
  ) {}

  write(pending: PendingSignIn): void {
    this.reply.setCookie(COOKIE, JSON.stringify(pending), { ...this.options(), maxAge: SIGN_IN_SECONDS, signed: true });
  }

  /** The pending sign-in, once: the cookie is cleared whether or not it was valid. */
  take(): PendingSignIn | undefined {
    const raw = this.request.cookies[COOKIE];
    this.reply.clearCookie(COOKIE, this.options());
    if (!raw) return undefined;
    const unsigned = this.request.unsignCookie(raw);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    try {
      const pending = JSON.parse(unsigned.value) as Partial<PendingSignIn>;
      const fields = [pending.handle, pending.verifier, pending.returnTo];
      return fields.every((field) => typeof field === 'string') ? (pending as PendingSignIn) : undefined;
    } catch {
      return undefined;
    }
  }

  private options(): CookieSerializeOptions {
    return { path: GOOGLE_CALLBACK_PATH, httpOnly: true, sameSite: 'lax', secure: this.secure };
  }
}

type StoreCallback = (error: Error | null, handle?: string) => void;
type VerifyCallback = (error: Error | null, verifier: string | false, state?: { returnTo: string } | { message: string }) => void;

/** passport-oauth2's state store contract (with PKCE), over the sign-in cookie. */
export class SignInStateStore {
  store(request: FastifyRequest, verifier: string, state: { returnTo: string }, _meta: unknown, callback: StoreCallback): void {
    const handle = randomBytes(24).toString('base64url');
    cookieOf(request).write({ handle, verifier, returnTo: state.returnTo });
    callback(null, handle);
  }

  verify(request: FastifyRequest, providedState: unknown, callback: VerifyCallback): void {
    const pending = cookieOf(request).take();
    if (!pending || typeof providedState !== 'string' || !sameText(pending.handle, providedState)) {
      callback(null, false, { message: 'sign-in state did not match; start the sign-in again' });
      return;
    }
    callback(null, pending.verifier, { returnTo: pending.returnTo });
  }
}

function cookieOf(request: FastifyRequest): SignInStateCookie {
  if (!request.signInState) throw new Error('the sign-in state store ran outside GoogleOAuthGuard');
  return request.signInState;
}

function sameText(expected: string, given: string): boolean {
  const [a, b] = [Buffer.from(expected), Buffer.from(given)];
  return a.length === b.length && timingSafeEqual(a, b);
}
