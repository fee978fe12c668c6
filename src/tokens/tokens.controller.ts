import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiCookieAuth, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { CreateTokenDto } from './dto/create-token.dto';
import { CreatedTokenResponseDto, TokenResponseDto } from './dto/token-response.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@ApiCookieAuth('session')
@ApiBearerAuth('token')
@ApiBasicAuth('token-basic')
@ApiUnauthorizedResponse({ description: 'No valid session or token' })
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  async listTokens(@CurrentPrincipal() principal: Principal): Promise<TokenResponseDto[]> {
    return (await this.tokens.listForUser(principal.user.id)).map((token) => TokenResponseDto.from(token));
  }

  @Post()
  async createToken(@CurrentPrincipal() principal: Principal, @Body() body: CreateTokenDto): Promise<CreatedTokenResponseDto> {
    const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
    if (expiresAt && expiresAt <= new Date()) {
      throw new BadRequestException({ code: 'token_expiry_past', message: 'expiresAt must be in the future' });
    }
    const { token, secret } = await this.tokens.create(principal.user, body.name, expiresAt);
    return { ...TokenResponseDto.from(token), token: secret };
  }

  @Delete(':id')
  @HttpCode(204)
  async revokeToken(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.tokens.revoke(principal.user.id, id);
  }
}
