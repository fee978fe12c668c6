import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { AuthorizedSubject } from '../rbac/decorators/authorized-subject.decorator';
import type { SubjectFields } from '../rbac/permissions';
import { OwnedByCaller } from '../rbac/subject-resolver';
import { TokenScopePolicy } from '../rbac/token-scope.policy';
import { UserNotFoundError } from '../users/users.errors';
import { CreateTokenDto } from './dto/create-token.dto';
import { CreatedTokenResponseDto, TokenResponseDto } from './dto/token-response.dto';
import { ListedTokensOwner, TokenOwner } from './token-owner.resolvers';
import { TokensService } from './tokens.service';

/** Everyone manages their own tokens; admins anyone's (the roles' own-only tokens grants). */
@ApiTags('tokens')
@Controller('api/v1/tokens')
export class TokensController {
  constructor(
    private readonly tokens: TokensService,
    private readonly scopes: TokenScopePolicy,
  ) {}

  @Get()
  @Authorize('read', 'tokens', ListedTokensOwner)
  @ApiQuery({ name: 'user', required: false, description: 'Whose tokens (admins); your own by default' })
  async listTokens(@AuthorizedSubject() owner: SubjectFields, @Query('user') email?: string): Promise<TokenResponseDto[]> {
    if (!owner.userId) throw new UserNotFoundError(String(email));
    return (await this.tokens.listForUser(owner.userId)).map((token) => TokenResponseDto.from(token));
  }

  @Post()
  @Authorize('create', 'tokens', OwnedByCaller)
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
  @Authorize('delete', 'tokens', TokenOwner)
  async revokeToken(@Param('id') id: string): Promise<void> {
    await this.tokens.revoke(id);
  }
}
