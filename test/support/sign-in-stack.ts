import { type MockOAuthProvider, startMockOAuthProvider } from './mock-oauth';
import { type MockRack, startMockRack } from './mock-rack';
import { TEST_OAUTH_CLIENT, type TestGateway, type TestGatewayOptions, startTestGateway } from './test-gateway';

export interface SignInStack {
  readonly rack: MockRack;
  readonly oauth: MockOAuthProvider;
  readonly gateway: TestGateway;
  readonly close: () => Promise<void>;
}

/** A gateway with Google sign-in against the mock provider, and the rack behind it. */
export async function startSignInStack(
  env: Record<string, string>,
  options: Pick<TestGatewayOptions, 'publicHost'> = {},
): Promise<SignInStack> {
  const rack = await startMockRack();
  const oauth = await startMockOAuthProvider({ ...TEST_OAUTH_CLIENT, redirectUris: [] });
  const gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, oauthUrl: oauth.url, env, ...options });
  oauth.allowRedirectUri(`${gateway.url}/api/v1/auth/callback`);
  return {
    rack,
    oauth,
    gateway,
    close: async () => {
      await gateway.close();
      await Promise.all([rack.close(), oauth.close()]);
    },
  };
}
