import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AdminRequiredError } from '../auth.errors';
import { ADMIN_ONLY } from '../decorators/admin-only.decorator';

@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [context.getHandler(), context.getClass()])) return true;
    const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
    if (principal?.user.role !== 'admin') throw new AdminRequiredError();
    return true;
  }
}
