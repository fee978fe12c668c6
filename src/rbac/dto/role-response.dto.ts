import { ApiProperty } from '@nestjs/swagger';
import { ROLES, type Role } from '../roles';

export class RoleResponseDto {
  @ApiProperty({ enum: ROLES }) name!: Role;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: ROLES, isArray: true }) inherits!: Role[];
  @ApiProperty({ description: 'Service-account role: API tokens only, no browser sign-in' }) tokensOnly!: boolean;
  @ApiProperty({ type: [String], example: ['apps:read', 'exec:create'] }) permissions!: string[];
  @ApiProperty({ type: [String], example: ['GET /apps', 'SOCKET /apps/{app}/processes/{pid}/exec'] }) rackRoutes!: string[];
  @ApiProperty({
    type: [String],
    example: ['POST /apps/{app}/builds'],
    description: 'Rack routes the role may call only as a step of an approved deploy',
  })
  rackRoutesUnderApproval!: string[];
}

export class AbilitiesResponseDto {
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ type: [String], nullable: true, description: 'Apps the role is limited to; null for every app' }) appScopes!:
    string[] | null;
  @ApiProperty({ nullable: true, description: 'The narrowing of the token in use, if any', type: Object }) tokenScope!: {
    role: Role;
    appScopes: string[] | null;
  } | null;
  @ApiProperty({ type: [String] }) permissions!: string[];
  @ApiProperty({ type: [String] }) rackRoutes!: string[];
}
