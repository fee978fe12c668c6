import { Module } from '@nestjs/common';
import { RackConnection } from './rack-connection';

@Module({
  providers: [RackConnection],
  exports: [RackConnection],
})
export class RackModule {}
