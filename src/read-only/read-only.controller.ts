import { Body, ConflictException, Controller, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { ReadOnlyStateResponseDto, SetReadOnlyDto } from './dto/read-only.dto';
import { ReadOnlyMode } from './read-only-mode';

@ApiTags('settings')
@Controller('api/v1/settings/read-only')
export class ReadOnlyController {
  constructor(private readonly mode: ReadOnlyMode) {}

  @Get()
  @Authorize('read', 'settings')
  @ApiOkResponse({ type: ReadOnlyStateResponseDto })
  getReadOnly(): ReadOnlyStateResponseDto {
    return ReadOnlyStateResponseDto.from(this.mode.state);
  }

  /** Needs settings:update and a second factor with the request (always level); the change is audited like every call. */
  @Put()
  @Authorize('update', 'settings')
  @ApiOkResponse({ type: ReadOnlyStateResponseDto, description: 'Applied on this instance at once, on every other within a second' })
  async setReadOnly(@CurrentPrincipal() principal: Principal, @Body() body: SetReadOnlyDto): Promise<ReadOnlyStateResponseDto> {
    if (this.mode.lockedByEnvironment && !body.enabled) {
      throw new ConflictException({
        code: 'read_only_by_environment',
        message: 'READ_ONLY=true is set in the environment; only a restart without it lifts read-only mode',
      });
    }
    return ReadOnlyStateResponseDto.from(await this.mode.set(body.enabled, body.reason, principal.user.email));
  }
}
