import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { PermissionDeniedError } from '../rbac/rbac.errors';
import type { Role } from '../rbac/roles';
import { CreateUserDto } from './dto/create-user.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserResponseDto } from './dto/user-response.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Authorize('read', 'users')
  async listUsers(): Promise<UserResponseDto[]> {
    return (await this.users.findAll()).map((user) => UserResponseDto.from(user));
  }

  @Get(':email')
  @Authorize('read', 'users')
  async getUser(@Param('email') email: string): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.getByEmail(email));
  }

  /** Lifts a lock from failed second factors before it runs out. */
  @Post(':email/unlock')
  @HttpCode(200)
  @Authorize('update', 'users')
  async unlockUser(@Param('email') email: string): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.unlock(email));
  }

  @Post()
  @Authorize('create', 'users')
  async createUser(@Body() body: CreateUserDto): Promise<UserResponseDto> {
    assertScopable(body.role, body.appScopes);
    return UserResponseDto.from(await this.users.create(body.email, body.role, body.name, body.appScopes ?? null));
  }

  @Patch(':email')
  @Authorize('update', 'users')
  async updateUser(
    @CurrentPrincipal() principal: Principal,
    @Param('email') email: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserResponseDto> {
    const target = await this.users.getByEmail(email);
    if (target.id === principal.user.id) {
      if (body.disabled) throw new PermissionDeniedError('you cannot disable yourself');
      if (body.appScopes !== undefined && target.appScopes !== null)
        throw new PermissionDeniedError('you cannot change your own app scopes');
    }
    assertScopable(body.role ?? target.role, body.appScopes === undefined ? target.appScopes : body.appScopes);
    return UserResponseDto.from(await this.users.update(email, body));
  }

  @Delete(':email')
  @HttpCode(204)
  @Authorize('delete', 'users')
  async deleteUser(@CurrentPrincipal() principal: Principal, @Param('email') email: string): Promise<void> {
    if (email.toLowerCase() === principal.user.email) throw new PermissionDeniedError('you cannot delete yourself');
    await this.users.remove(email);
  }
}

/** Admin means every app; an app-scoped admin would be a contradiction the abilities cannot express. */
function assertScopable(role: Role, appScopes: readonly string[] | null | undefined): void {
  if (role === 'admin' && appScopes) {
    throw new BadRequestException({
      code: 'admin_not_scopable',
      message: 'the admin role applies to every app; use deployer or ops with app scopes',
    });
  }
}
