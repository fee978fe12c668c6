import { SetMetadata } from '@nestjs/common';
import type { MfaLevel } from '../mfa-levels';

export const SECOND_FACTOR_GATE = 'rgw:second-factor-gate';
export const MFA_LEVEL = 'rgw:mfa-level';

/**
 * Who may reach a route before their second factor is settled. `before-second-factor`: anyone signed
 * in (verifying, logout, `me`): a person yet to enrol, and a browser sign-in yet to pass its second
 * factor. `enrolment`: a person yet to enrol; once they have, the route is held to the usual rules.
 */
export type SecondFactorGate = 'before-second-factor' | 'enrolment';

export const ReachableBeforeSecondFactor = () => SetMetadata(SECOND_FACTOR_GATE, 'before-second-factor' satisfies SecondFactorGate);
export const ReachableForEnrolment = () => SetMetadata(SECOND_FACTOR_GATE, 'enrolment' satisfies SecondFactorGate);

/** The MFA level of a gateway route that no permission of the levels table decides (a person's own methods). */
export const RequiresMfa = (level: Exclude<MfaLevel, 'none'>) => SetMetadata(MFA_LEVEL, level);
