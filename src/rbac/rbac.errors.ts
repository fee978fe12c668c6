import { ForbiddenException } from '@nestjs/common';

export class PermissionDeniedError extends ForbiddenException {
  constructor(reason: string) {
    super({ code: 'permission_denied', message: reason });
  }
}
