export { DEFAULT_MOCK_IDENTITY } from './google-account';
export { ACCESS_TOKEN_LIFETIME_SECONDS, CODE_LIFETIME_MS } from './grant-store';
export { startMockOAuthProvider } from './mock-authorization-server';
export type { ClientAuthMethod, MockIdentity, MockOAuthProvider, MockOAuthProviderOptions, MockOAuthRequest } from './mock-oauth.types';
