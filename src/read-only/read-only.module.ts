import { Module } from '@nestjs/common';
import { ReadOnlyGuard } from './guards/read-only.guard';
import { ReadOnlyMode } from './read-only-mode';

/** Read-only mode: the switch, and the pipeline stage that refuses changes to the rack while it is on. */
@Module({
  providers: [ReadOnlyMode, ReadOnlyGuard],
  exports: [ReadOnlyMode, ReadOnlyGuard],
})
export class ReadOnlyModule {}
