import { Module } from '@nestjs/common';
import { SettingsModule } from '../settings/settings.module';
import { ReadOnlyGuard } from './guards/read-only.guard';
import { ReadOnlyController } from './read-only.controller';
import { ReadOnlyMode } from './read-only-mode';

/** Read-only mode: the switch (environment or an admin's setting), and the pipeline stage that refuses changes to the rack while it is on. */
@Module({
  imports: [SettingsModule],
  controllers: [ReadOnlyController],
  providers: [ReadOnlyMode, ReadOnlyGuard],
  exports: [ReadOnlyMode, ReadOnlyGuard],
})
export class ReadOnlyModule {}
