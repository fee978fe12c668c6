import { SetMetadata } from '@nestjs/common';

export const PROXIED_TO_RACK = 'rgw:proxied-to-rack';

/** Marks the proxy's catch-all handler: its requests are decided by the rack route table. */
export const ProxiedToRack = () => SetMetadata(PROXIED_TO_RACK, true);
