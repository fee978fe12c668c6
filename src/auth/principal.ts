import type { RoleBinding } from '../rbac/principal-ability';
import type { UserEntity } from '../users/user.entity';

/** Who is making a request, and with what credential. Set by the authentication guard. */
export type Principal =
  | { readonly kind: 'session'; readonly user: UserEntity; readonly sessionId: string }
  | { readonly kind: 'token'; readonly user: UserEntity; readonly tokenId: string; readonly scope: RoleBinding | null };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
