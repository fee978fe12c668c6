import { Controller, Get } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { UserResponseDto } from '../users/dto/user-response.dto';
import { CurrentPrincipal } from './decorators/current-principal.decorator';
import { MeResponseDto } from './dto/me-response.dto';
import type { Principal } from './principal';

@ApiTags('auth')
@ApiCookieAuth('session')
@ApiBearerAuth('token')
@ApiBasicAuth('token-basic')
@Controller('api/v1/me')
export class MeController {
  @Get()
  @ApiOkResponse({ type: MeResponseDto })
  @ApiUnauthorizedResponse({ description: 'No valid session or token' })
  getMe(@CurrentPrincipal() principal: Principal): MeResponseDto {
    return { user: UserResponseDto.from(principal.user), authenticatedBy: principal.kind };
  }
}
