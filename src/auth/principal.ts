import type { RoleBinding } from '../rbac/principal-ability';
import type { UserEntity } from '../users/user.entity';

/**
 * Who is making a request, and with what credential. Set by the authentication guard. `stepUpUntil`
 * (epoch ms) is the credential's step-up window: step-up operations need no new second factor before it.
 */
export type Principal =
  | {
      readonly kind: 'session';
      readonly user: UserEntity;
      readonly sessionId: string;
      /** When this sign-in passed its second factor (epoch ms); null while it has not. */
      readonly secondFactorAt: number | null;
      readonly stepUpUntil: number | null;
    }
  | {
      readonly kind: 'token';
      readonly user: UserEntity;
      readonly tokenId: string;
      readonly scope: RoleBinding | null;
      readonly stepUpUntil: number | null;
    };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
