import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'rgw:public';

/** Authentication is global; only routes marked here are reachable without a credential. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
