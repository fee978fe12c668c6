import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { Authorize } from './decorators/authorize.decorator';
import { AbilityFactory } from './ability.factory';
import { AbilitiesResponseDto, RoleResponseDto } from './dto/role-response.dto';
import { describeAbility, describeRoles } from './role-catalogue';

@ApiTags('rbac')
@Controller('api/v1')
export class RolesController {
  constructor(private readonly abilities: AbilityFactory) {}

  @Get('roles')
  @Authorize()
  @ApiOkResponse({ type: [RoleResponseDto] })
  listRoles(): RoleResponseDto[] {
    return describeRoles().map((role) => ({
      ...role,
      inherits: [...role.inherits],
      permissions: [...role.permissions],
      rackRoutes: [...role.rackRoutes],
      rackRoutesUnderApproval: [...role.rackRoutesUnderApproval],
    }));
  }

  @Get('me/abilities')
  @Authorize()
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
