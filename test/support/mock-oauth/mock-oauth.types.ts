/** A Google account the mock "logs in" at its authorization endpoint. */
export interface MockIdentity {
  email: string;
  name?: string;
  /** Defaults to true. */
  emailVerified?: boolean;
  /** Google Workspace domain, answered as `hd`; omitted for consumer accounts. */
  hostedDomain?: string;
  /** Defaults to a stable 21-digit id derived from the email, like Google's. */
  sub?: string;
}

export interface MockOAuthProviderOptions {
  clientId: string;
  clientSecret: string;
  /** Compared exactly, as Google does. More can be added with `allowRedirectUri`. */
  redirectUris: string[];
  /** Who signs in when nothing is queued (the demo signs everyone in as its admin). */
  defaultIdentity?: MockIdentity;
  /** Milliseconds since the epoch; inject one to expire codes and tokens without sleeping. */
  clock?: () => number;
}

/** How a token-endpoint caller proved it was the client (RFC 6749 section 2.3.1). */
export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic';

/** One request the mock received, in arrival order. */
export interface MockOAuthRequest {
  method: string;
  path: string;
  /** First value of each query parameter. */
  query: Record<string, string>;
  /** Status the mock answered with. */
  status: number;
  /** Token calls: the form body, without `client_secret`. */
  form?: Record<string, string>;
  /** Token calls: the client that authenticated, absent when authentication failed. */
  client?: { id: string; method: ClientAuthMethod };
  /** Userinfo calls: where the access token was presented. */
  accessTokenIn?: 'header' | 'query';
}

export interface MockOAuthProvider {
  /** Origin such as http://127.0.0.1:41234, to use as GOOGLE_OAUTH_BASE_URL. */
  readonly url: string;
  /** The next valid authorization request logs in as this identity (first in, first out). */
  queueLogin(identity: MockIdentity): void;
  /** The next valid authorization request redirects back with error=access_denied. */
  queueDenial(): void;
  /** The gateway's port is only known after it listens. */
  allowRedirectUri(uri: string): void;
  requests(): MockOAuthRequest[];
  close(): Promise<void>;
}
