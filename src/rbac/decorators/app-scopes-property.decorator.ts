import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, Matches } from 'class-validator';
import { APP_SCOPE_PATTERN } from '../app-scope';

/** An optional list of app names or `*` patterns, validated the same wherever scopes are set. */
export const AppScopesProperty = (description: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: [String], nullable: true, example: ['api', 'staging-*'], description }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(100),
    Matches(APP_SCOPE_PATTERN, { each: true, message: 'appScopes must be app names or patterns with *' }),
  );
