import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RackModule } from '../rack/rack.module';
import { ReadOnlyModule } from '../read-only/read-only.module';
import { Draining } from './draining';
import { HealthController } from './health.controller';
import { RateLimitCountersModule } from '../rate-limit/rate-limit-counters.module';
import { RateLimitCountersHealthIndicator } from './rate-limit-counters.health';
import { RackHealthIndicator } from './rack.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), RackModule, RateLimitCountersModule, ReadOnlyModule],
  controllers: [HealthController],
  providers: [RackHealthIndicator, RateLimitCountersHealthIndicator, Draining],
  exports: [Draining],
})
export class HealthModule {}
