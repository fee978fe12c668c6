import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { credentialFromAuthorization } from '../../auth/credentials';
import type { Principal } from '../../auth/principal';
import { ClientAddress } from '../../common/client-address';
import { Clock } from '../../common/clock';
import { isUiPath } from '../../common/gateway-paths';
import type { PipelineRequest } from '../../common/pipeline-request';
import { GATEWAY_CONFIG, GatewayConfig } from '../../config/gateway-config';
import { ACCESS_RULE, type AccessRule } from '../../rbac/decorators/authorize.decorator';
import { permissionName } from '../../rbac/permissions';
import { PermissionDeniedError } from '../../rbac/rbac.errors';
import { ROLE_DEFINITIONS } from '../../rbac/roles';
import { MFA_LEVEL, SECOND_FACTOR_GATE, type SecondFactorGate } from '../decorators/mfa-gate.decorators';
import { type MfaLevel, type SecondFactorUse, mfaLevelOf, mfaLevelOfRoute } from '../mfa-levels';
import { EnrollmentRequiredError, SecondFactorRequiredError, SignInIncompleteError } from '../mfa.errors';
import { type SecondFactorProof, proofFromAssertionHeader, proofFromCode } from '../second-factor-proof';
import { SecondFactors } from '../second-factors.service';
import { StepUpWindows } from '../step-up-windows';

declare module 'fastify' {
  interface FastifyRequest {
    /** The second-factor level of the route, for the record; set by the MFA stage for every caller it meets. */
    mfaLevel?: MfaLevel;
    /** How the route's second factor was satisfied, for the record; unset when the route needs none. */
    secondFactor?: SecondFactorUse;
  }
}

/**
 * The MFA stage of the pipeline, after the policy has matched the route (HTTP and websockets alike).
 * A person who must enrol reaches only enrolment; a browser sign-in that has not passed its second
 * factor only what finishes it. Then the route's level: step-up passes within the credential's window,
 * always only with a code in this very request; a code sent is verified and opens the window. CI
 * tokens (the cicd role) never pass a level themselves: people verify, machines deploy through
 * approvals, and a step the deploy-approvals stage admitted carries its approvers' second factors.
 *
 * The checks read only the principal: a request that needs no second factor costs no query.
 */
@Injectable()
export class MfaGuard implements CanActivate {
  private readonly windowMinutes: number;

  constructor(
    private readonly reflector: Reflector,
    private readonly secondFactors: SecondFactors,
    private readonly stepUps: StepUpWindows,
    private readonly clientAddress: ClientAddress,
    private readonly clock: Clock,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.windowMinutes = Math.round(config.mfa.stepUpWindowMs / 60_000);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    const principal = request.principal;
    if (!principal) return true;
    const machine = isMachine(principal);
    const enrolled = principal.user.mfaEnrolledAt !== null;
    const gate = this.reflector.get<SecondFactorGate | undefined>(SECOND_FACTOR_GATE, context.getHandler());
    const { level, permission } = this.levelOf(context, request);
    request.mfaLevel = level;

    if (!machine && !enrolled) {
      if (this.config.mfa.required && gate === undefined) throw new EnrollmentRequiredError(this.config.http.publicUrl);
      // Not held to levels until enrolled: nothing could satisfy them, and MFA_REQUIRED=false allows that.
      return true;
    }
    if (gate === 'before-second-factor' || (gate === 'enrolment' && !enrolled)) return true;
    if (principal.kind === 'session' && principal.secondFactorAt === null) throw new SignInIncompleteError(this.config.http.publicUrl);

    if (level === 'none') return true;
    if (machine) {
      if (request.deployApproval) {
        request.secondFactor = { level, by: 'deploy approval' };
        return true;
      }
      if (!this.config.mfa.required) return true;
      throw new PermissionDeniedError(
        `${permission} needs a person's second factor; CI tokens cannot perform it (deploy through an approval)`,
      );
    }
    if (level === 'step-up' && principal.stepUpUntil !== null && principal.stepUpUntil > this.clock.now().getTime()) {
      request.secondFactor = { level, by: 'step-up window' };
      return true;
    }
    const proof = proofIn(request);
    if (!proof) throw new SecondFactorRequiredError(permission, level, this.config.http.publicUrl, this.windowMinutes);
    return this.verify(principal, proof, level, request);
  }

  private async verify(
    principal: Principal,
    proof: SecondFactorProof,
    level: Exclude<MfaLevel, 'none'>,
    request: PipelineRequest,
  ): Promise<true> {
    await this.secondFactors.verify(principal.user, proof, this.clientAddress.of(request.raw));
    await this.stepUps.open(principal);
    request.secondFactor = { level, by: proof.kind };
    return true;
  }

  private levelOf(context: ExecutionContext, request: PipelineRequest): { readonly level: MfaLevel; readonly permission: string } {
    const decision = request.rackDecision;
    if (decision) return mfaLevelOfRoute(decision.route);
    const override = this.reflector.get<Exclude<MfaLevel, 'none'> | undefined>(MFA_LEVEL, context.getHandler());
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [context.getHandler(), context.getClass()]);
    const permission = rule?.permission
      ? permissionName(rule.permission.action, rule.permission.subject)
      : `${request.method} ${request.url.split('?', 1)[0]}`;
    if (override) return { level: override, permission };
    return { level: rule?.permission ? mfaLevelOf(rule.permission.action, rule.permission.subject) : 'none', permission };
  }
}

/** CI's tokens: a service account of the cicd role, or any token narrowed to it. */
function isMachine(principal: Principal): boolean {
  if (ROLE_DEFINITIONS[principal.user.role].tokensOnly) return true;
  return principal.kind === 'token' && principal.scope !== null && ROLE_DEFINITIONS[principal.scope.role].tokensOnly === true;
}

/**
 * A proof sent with the request: a security key's assertion in X-MFA-WebAuthn (base64url JSON of
 * `{challenge_id, response}`, for browsers), a code in X-MFA-TOTP (any client), a code in a page
 * form's `mfa_code` (the pages under /ui/, which post forms), else a code riding after the token in
 * the password (the convox CLI).
 */
function proofIn(request: PipelineRequest): SecondFactorProof | undefined {
  const assertion = request.headers['x-mfa-webauthn'];
  if (typeof assertion === 'string') return proofFromAssertionHeader(assertion);
  const header = request.headers['x-mfa-totp'];
  if (typeof header === 'string') return proofFromCode(header);
  const formCode = isUiPath(request.url) ? (request.body as { mfa_code?: unknown } | undefined)?.mfa_code : undefined;
  if (typeof formCode === 'string') return proofFromCode(formCode);
  const inline = credentialFromAuthorization(request.headers.authorization)?.secondFactor;
  return inline ? proofFromCode(inline.code) : undefined;
}
