import { ConflictException, NotFoundException } from '@nestjs/common';

export class UserNotFoundError extends NotFoundException {
  constructor(email: string) {
    super({ code: 'user_not_found', message: `user not found: ${email}` });
  }
}

export class UserExistsError extends ConflictException {
  constructor(email: string) {
    super({ code: 'user_exists', message: `user already exists: ${email}` });
  }
}
