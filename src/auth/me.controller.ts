import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ReachableBeforeSecondFactor } from '../mfa/decorators/mfa-gate.decorators';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { UserResponseDto } from '../users/dto/user-response.dto';
import { CurrentPrincipal } from './decorators/current-principal.decorator';
import { MeResponseDto } from './dto/me-response.dto';
import type { Principal } from './principal';

@ApiTags('auth')
@Controller('api/v1/me')
export class MeController {
  @Get()
  @Authorize()
  @ReachableBeforeSecondFactor()
  @ApiOkResponse({ type: MeResponseDto })
  getMe(@CurrentPrincipal() principal: Principal): MeResponseDto {
    return { user: UserResponseDto.from(principal.user), authenticatedBy: principal.kind };
  }
}
