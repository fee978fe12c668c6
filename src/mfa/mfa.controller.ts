import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Req,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import { Public } from '../auth/decorators/public.decorator';
import type { Principal } from '../auth/principal';
import { ClientAddress } from '../common/client-address';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { RACK_ROUTES } from '../rbac/rack-route-table';
import { permissionName } from '../rbac/permissions';
import { ReachableBeforeSecondFactor, ReachableForEnrolment, RequiresMfa } from './decorators/mfa-gate.decorators';
import { ConfirmTotpDto, RegisterWebAuthnDto, RenameMfaMethodDto, StartTotpDto, StartedTotpResponseDto } from './dto/enrolment.dto';
import {
  BackupCodesResponseDto,
  EnrolledMethodResponseDto,
  MfaMethodResponseDto,
  MfaRequirementsResponseDto,
  MfaStatusResponseDto,
} from './dto/mfa-status.dto';
import { VerifiedResponseDto, VerifyMfaDto, WebAuthnOptionsResponseDto } from './dto/verification.dto';
import { MFA_LEVELS, mfaLevelOf } from './mfa-levels';
import { MfaEnrolment } from './mfa-enrolment.service';
import { type SecondFactorProof, proofFromCode } from './second-factor-proof';
import { SecondFactors } from './second-factors.service';
import { StepUpWindows } from './step-up-windows';
import { WebAuthnCeremonies } from './webauthn-ceremonies';

@ApiTags('mfa')
@Controller('api/v1/mfa')
export class MfaController {
  constructor(
    private readonly enrolment: MfaEnrolment,
    private readonly secondFactors: SecondFactors,
    private readonly webauthn: WebAuthnCeremonies,
    private readonly stepUps: StepUpWindows,
    private readonly clientAddress: ClientAddress,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get('requirements')
  @Public()
  @ApiOkResponse({ type: MfaRequirementsResponseDto, description: 'Which operations need a second factor, for clients to prompt first' })
  getRequirements(): MfaRequirementsResponseDto {
    return {
      step_up_window_seconds: this.config.mfa.stepUpWindowMs / 1000,
      enrollment_required: this.config.mfa.required,
      permissions: Object.entries(MFA_LEVELS).map(([permission, level]) => ({ permission, level })),
      rack_routes: RACK_ROUTES.flatMap(({ method, path, action, subject }) => {
        const level = mfaLevelOf(action, subject);
        return level === 'none' ? [] : [{ method, path, permission: permissionName(action, subject), level }];
      }),
    };
  }

  @Get('methods')
  @Authorize()
  @ReachableBeforeSecondFactor()
  @ApiOkResponse({ type: MfaStatusResponseDto })
  async getStatus(@CurrentPrincipal() principal: Principal): Promise<MfaStatusResponseDto> {
    const [methods, backupCodesRemaining] = await Promise.all([
      this.enrolment.listMethods(principal.user.id),
      this.enrolment.unusedBackupCodes(principal.user.id),
    ]);
    return {
      enrolled: methods.length > 0,
      required: this.config.mfa.required,
      methods: methods.map((method) => MfaMethodResponseDto.from(method)),
      backup_codes_remaining: backupCodesRemaining,
      step_up_until: principal.stepUpUntil === null ? null : new Date(principal.stepUpUntil).toISOString(),
    };
  }

  @Post('totp')
  @Authorize()
  @ReachableForEnrolment()
  @RequiresMfa('step-up')
  @ApiOkResponse({ type: StartedTotpResponseDto, description: 'A pending authenticator: scan the QR code, then confirm with a code' })
  @HttpCode(201)
  async startTotp(@CurrentPrincipal() principal: Principal, @Body() body: StartTotpDto): Promise<StartedTotpResponseDto> {
    const started = await this.enrolment.startTotp(principal.user, body.label ?? 'Authenticator app');
    return { id: started.id, secret: started.secret, otpauth_uri: started.otpauthUri, qr_code: started.qrCode };
  }

  @Post('totp/:id/confirm')
  @Authorize()
  @ReachableForEnrolment()
  @RequiresMfa('step-up')
  @ApiOkResponse({ type: EnrolledMethodResponseDto })
  @HttpCode(200)
  async confirmTotp(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ConfirmTotpDto,
  ): Promise<EnrolledMethodResponseDto> {
    const { backupCodes } = await this.enrolment.confirmTotp(principal.user, id, body.code);
    const [method] = (await this.enrolment.listMethods(principal.user.id)).filter((candidate) => candidate.id === id);
    return { method: MfaMethodResponseDto.from(method), backup_codes: backupCodes, step_up_until: await this.openWindow(principal) };
  }

  @Post('webauthn/registration-options')
  @Authorize()
  @ReachableForEnrolment()
  @RequiresMfa('step-up')
  @ApiOkResponse({ type: WebAuthnOptionsResponseDto })
  @HttpCode(200)
  async startWebAuthnRegistration(@CurrentPrincipal() principal: Principal): Promise<WebAuthnOptionsResponseDto> {
    const { challengeId, options } = await this.webauthn.registrationOptions(principal.user);
    return { challenge_id: challengeId, options };
  }

  @Post('webauthn/registrations')
  @Authorize()
  @ReachableForEnrolment()
  @RequiresMfa('step-up')
  @ApiOkResponse({ type: EnrolledMethodResponseDto })
  @HttpCode(201)
  async registerWebAuthn(@CurrentPrincipal() principal: Principal, @Body() body: RegisterWebAuthnDto): Promise<EnrolledMethodResponseDto> {
    const { method, backupCodes } = await this.enrolment.registerWebAuthn(
      principal.user,
      body.challenge_id,
      body.response,
      body.label ?? 'Security key',
    );
    return { method: MfaMethodResponseDto.from(method), backup_codes: backupCodes, step_up_until: await this.openWindow(principal) };
  }

  @Post('webauthn/assertion-options')
  @Authorize()
  @ReachableBeforeSecondFactor()
  @ApiOkResponse({
    type: WebAuthnOptionsResponseDto,
    description: 'A challenge for the caller’s security keys; answer it at POST /api/v1/mfa/verify',
  })
  @HttpCode(200)
  async startWebAuthnAssertion(@CurrentPrincipal() principal: Principal): Promise<WebAuthnOptionsResponseDto> {
    const { challengeId, options } = await this.webauthn.authenticationOptions(principal.user);
    return { challenge_id: challengeId, options };
  }

  @Post('verify')
  @Authorize()
  @ReachableBeforeSecondFactor()
  @ApiOkResponse({ type: VerifiedResponseDto, description: 'Verified: the calling session or token may step up until step_up_until' })
  @HttpCode(200)
  async verify(
    @CurrentPrincipal() principal: Principal,
    @Body() body: VerifyMfaDto,
    @Req() request: FastifyRequest,
  ): Promise<VerifiedResponseDto> {
    const proof = proofOf(body);
    await this.secondFactors.verify(principal.user, proof, this.clientAddress.of(request.raw));
    return { method: proof.kind, step_up_until: await this.openWindow(principal) };
  }

  @Patch('methods/:id')
  @Authorize()
  @ApiOkResponse({ type: MfaMethodResponseDto })
  async renameMethod(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RenameMfaMethodDto,
  ): Promise<MfaMethodResponseDto> {
    return MfaMethodResponseDto.from(await this.enrolment.rename(principal.user.id, id, body.label));
  }

  @Delete('methods/:id')
  @Authorize()
  @RequiresMfa('always')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Removed; removing the last method ends the enrolment and its backup codes' })
  async removeMethod(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.enrolment.remove(principal.user, id);
  }

  @Post('backup-codes')
  @Authorize()
  @RequiresMfa('step-up')
  @ApiOkResponse({ type: BackupCodesResponseDto })
  @HttpCode(200)
  async regenerateBackupCodes(@CurrentPrincipal() principal: Principal): Promise<BackupCodesResponseDto> {
    return { backup_codes: await this.enrolment.regenerateBackupCodes(principal.user) };
  }

  private async openWindow(principal: Principal): Promise<string> {
    return (await this.stepUps.open(principal)).toISOString();
  }
}

function proofOf(body: VerifyMfaDto): SecondFactorProof {
  if (body.challenge_id !== undefined && body.response !== undefined) {
    return { kind: 'webauthn', challengeId: body.challenge_id, response: body.response };
  }
  const proof = body.code === undefined ? undefined : proofFromCode(body.code);
  if (!proof) {
    throw new BadRequestException({
      code: 'invalid_proof',
      message: 'send {"code": "<six-digit TOTP code or backup code>"} or {"challenge_id", "response"} from a security key',
    });
  }
  return proof;
}
