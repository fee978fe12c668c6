import { Module } from '@nestjs/common';
import { ProxyModule } from '../proxy/proxy.module';
import { RackModule } from '../rack/rack.module';
import { BuildRepositoryRedactor } from './build-repository-redactor';
import { ReleaseEnvPolicy } from './release-env.policy';
import { SecretMasker } from './secret-masker.service';

/**
 * What callers may not see or change of the rack's secrets: masking in answers (env, parameters,
 * credentials), the rack password in build answers, and the env a release may carry. Its services
 * provide the route behaviours the rack route table names.
 */
@Module({
  imports: [ProxyModule, RackModule],
  providers: [SecretMasker, BuildRepositoryRedactor, ReleaseEnvPolicy],
})
export class SecretsModule {}
