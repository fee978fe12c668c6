import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RackModule } from '../rack/rack.module';
import { HealthController } from './health.controller';
import { RackHealthIndicator } from './rack.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), RackModule],
  controllers: [HealthController],
  providers: [RackHealthIndicator],
})
export class HealthModule {}
