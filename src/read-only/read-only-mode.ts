import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { GatewaySettings } from '../settings/gateway-settings.service';

const SETTING = 'read_only';

export interface ReadOnlyState {
  readonly active: boolean;
  /** `environment`: READ_ONLY=true, which no admin can lift; `setting`: an admin turned it on. */
  readonly source: 'environment' | 'setting' | null;
  readonly reason: string | null;
  readonly changedBy: string | null;
  readonly changedAt: Date | null;
}

/**
 * Whether this gateway refuses changes to the rack: READ_ONLY for incidents, rack upgrades and
 * migrations, or an admin's setting at run time (every instance within a second). People still see
 * what runs (apps, logs); nothing may change. The environment wins: a setting cannot lift READ_ONLY.
 */
@Injectable()
export class ReadOnlyMode {
  private readonly fromEnvironment: boolean;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly settings: GatewaySettings,
  ) {
    this.fromEnvironment = config.operations.readOnly;
  }

  get active(): boolean {
    return this.fromEnvironment || (this.settings.get(SETTING)?.value as { enabled?: boolean } | undefined)?.enabled === true;
  }

  get state(): ReadOnlyState {
    if (this.fromEnvironment) return { active: true, source: 'environment', reason: 'READ_ONLY=true', changedBy: null, changedAt: null };
    const setting = this.settings.get(SETTING);
    const value = setting?.value as { enabled?: boolean; reason?: string } | undefined;
    return {
      active: value?.enabled === true,
      source: value?.enabled === true ? 'setting' : null,
      reason: value?.reason ?? null,
      changedBy: setting?.updatedBy ?? null,
      changedAt: setting?.updatedAt ?? null,
    };
  }

  /** Turns the setting on or off; answers the state after the change. */
  async set(enabled: boolean, reason: string | undefined, changedBy: string): Promise<ReadOnlyState> {
    await this.settings.set(SETTING, { enabled, ...(reason ? { reason } : {}) }, changedBy);
    return this.state;
  }

  get lockedByEnvironment(): boolean {
    return this.fromEnvironment;
  }
}
