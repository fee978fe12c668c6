import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { ReachableBeforeSecondFactor } from '../mfa/decorators/mfa-gate.decorators';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { UserResponseDto } from '../users/dto/user-response.dto';
import { CurrentPrincipal } from './decorators/current-principal.decorator';
import { MeResponseDto } from './dto/me-response.dto';
import type { Principal } from './principal';

@ApiTags('auth')
@Controller('api/v1/me')
export class MeController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Get()
  @Authorize()
  @ReachableBeforeSecondFactor()
  @ApiOkResponse({ type: MeResponseDto })
  getMe(@CurrentPrincipal() principal: Principal): MeResponseDto {
    const enrolled = principal.user.mfaEnrolledAt !== null;
    return {
      user: UserResponseDto.from(principal.user),
      authenticatedBy: principal.kind,
      secondFactor: {
        required: this.config.mfa.required,
        enrolled,
        signInPending: principal.kind === 'session' && enrolled && principal.secondFactorAt === null,
        stepUpUntil: principal.stepUpUntil === null ? null : new Date(principal.stepUpUntil).toISOString(),
      },
    };
  }
}
