import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { AbilityFactory } from '../rbac/ability.factory';
import { PermissionDeniedError } from '../rbac/rbac.errors';
import { TokenScopePolicy } from '../rbac/token-scope.policy';
import { UsersService } from '../users/users.service';
import { CreateTokenDto } from './dto/create-token.dto';
import { CreatedTokenResponseDto, TokenResponseDto } from './dto/token-response.dto';
import { TokensService } from './tokens.service';

/** One's own tokens for everyone; anyone's tokens for holders of tokens:read / tokens:delete (admins). */
@ApiTags('tokens')
@ApiCookieAuth('session')
@ApiBearerAuth('token')
@ApiBasicAuth('token-basic')
@ApiUnauthorizedResponse({ description: 'No valid session or token' })
@ApiForbiddenResponse({ description: 'Another user’s tokens without tokens:read or tokens:delete, or a token wider than its creator' })
@Controller('api/v1/tokens')
export class TokensController {
  constructor(
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly abilities: AbilityFactory,
    private readonly scopes: TokenScopePolicy,
  ) {}

  @Get()
  @ApiQuery({ name: 'user', required: false, description: 'Whose tokens (admins); your own by default' })
  async listTokens(@CurrentPrincipal() principal: Principal, @Query('user') email?: string): Promise<TokenResponseDto[]> {
    let userId = principal.user.id;
    if (email !== undefined && email.toLowerCase() !== principal.user.email) {
      if (!this.abilities.forPrincipal(principal).can('read', 'tokens')) throw new PermissionDeniedError('permission denied: tokens:read');
      userId = (await this.users.getByEmail(email)).id;
    }
    return (await this.tokens.listForUser(userId)).map((token) => TokenResponseDto.from(token));
  }

  @Post()
  async createToken(@CurrentPrincipal() principal: Principal, @Body() body: CreateTokenDto): Promise<CreatedTokenResponseDto> {
    const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
    if (expiresAt && expiresAt <= new Date()) {
      throw new BadRequestException({ code: 'token_expiry_past', message: 'expiresAt must be in the future' });
    }
    this.scopes.assertWithinCreator(principal, body.role ?? null, body.appScopes ?? null);
    const { token, secret } = await this.tokens.create(principal.user, {
      name: body.name,
      expiresAt,
      role: body.role,
      appScopes: body.appScopes,
    });
    return { ...TokenResponseDto.from(token), token: secret };
  }

  @Delete(':id')
  @HttpCode(204)
  async revokeToken(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    const anyUser = this.abilities.forPrincipal(principal).can('delete', 'tokens');
    await this.tokens.revoke(id, anyUser ? undefined : principal.user.id);
  }
}
