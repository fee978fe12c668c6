import { Module } from '@nestjs/common';
import { RackClient } from './rack-client';
import { RackConnection } from './rack-connection';

@Module({
  providers: [RackConnection, RackClient],
  exports: [RackConnection, RackClient],
})
export class RackModule {}
