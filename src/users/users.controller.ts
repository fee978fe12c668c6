import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBasicAuth, ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/decorators/admin-only.decorator';
import { CreateUserDto } from './dto/create-user.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserResponseDto } from './dto/user-response.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiCookieAuth('session')
@ApiBearerAuth('token')
@ApiBasicAuth('token-basic')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @AdminOnly()
  async listUsers(): Promise<UserResponseDto[]> {
    return (await this.users.findAll()).map((user) => UserResponseDto.from(user));
  }

  @Post()
  @AdminOnly()
  async createUser(@Body() body: CreateUserDto): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.create(body.email, body.role, body.name));
  }

  @Patch(':email')
  @AdminOnly()
  async updateUser(@Param('email') email: string, @Body() body: UpdateUserDto): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.update(email, body));
  }

  @Delete(':email')
  @HttpCode(204)
  @AdminOnly()
  async deleteUser(@Param('email') email: string): Promise<void> {
    await this.users.remove(email);
  }
}
