import { Controller, Get } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { AbilityFactory } from './ability.factory';
import { AbilitiesResponseDto, RoleResponseDto } from './dto/role-response.dto';
import { describeAbility, describeRoles } from './role-catalogue';

@ApiTags('rbac')
@ApiCookieAuth('session')
@ApiBearerAuth('token')
@ApiBasicAuth('token-basic')
@ApiUnauthorizedResponse({ description: 'No valid session or token' })
@Controller('api/v1')
export class RolesController {
  constructor(private readonly abilities: AbilityFactory) {}

  @Get('roles')
  @ApiOkResponse({ type: [RoleResponseDto] })
  listRoles(): RoleResponseDto[] {
    return describeRoles().map((role) => ({
      ...role,
      inherits: [...role.inherits],
      permissions: [...role.permissions],
      rackRoutes: [...role.rackRoutes],
    }));
  }

  @Get('me/abilities')
  @ApiOkResponse({ type: AbilitiesResponseDto })
  getMyAbilities(@CurrentPrincipal() principal: Principal): AbilitiesResponseDto {
    const tokenScope =
      principal.kind === 'token' && principal.scope
        ? { role: principal.scope.role, appScopes: principal.scope.appScopes ? [...principal.scope.appScopes] : null }
        : null;
    return {
      role: principal.user.role,
      appScopes: principal.user.appScopes,
      tokenScope,
      ...describeAbility(this.abilities.forPrincipal(principal)),
    };
  }
}
