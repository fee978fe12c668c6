import { NotFoundException } from '@nestjs/common';

export class TokenNotFoundError extends NotFoundException {
  constructor(id: string) {
    super({ code: 'token_not_found', message: `token not found: ${id}` });
  }
}
