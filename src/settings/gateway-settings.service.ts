import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { GatewaySettingEntity } from './gateway-setting.entity';

/** How often each instance re-reads the settings: a change made on one holds on all within this. */
export const SETTINGS_REFRESH_MS = 1_000;

export interface GatewaySetting {
  readonly value: unknown;
  readonly updatedBy: string | null;
  readonly updatedAt: Date;
}

/**
 * Settings admins change at run time, in the database so every instance shares them. Readers on the
 * request path read this instance's copy, refreshed every second with one small query: no request
 * waits on the database for a setting.
 */
@Injectable()
export class GatewaySettings implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(GatewaySettings.name);
  private current = new Map<string, GatewaySetting>();
  private timer: NodeJS.Timeout | undefined;

  constructor(@InjectRepository(GatewaySettingEntity) private readonly settings: Repository<GatewaySettingEntity>) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((error: Error) => this.logger.warn(`could not refresh settings: ${error.message}`));
    }, SETTINGS_REFRESH_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  get(key: string): GatewaySetting | undefined {
    return this.current.get(key);
  }

  /** Stores a setting and applies it on this instance at once; the others within SETTINGS_REFRESH_MS. */
  async set(key: string, value: unknown, updatedBy: string): Promise<GatewaySetting> {
    await this.settings.upsert({ key, value: value as never, updatedBy }, ['key']);
    await this.refresh();
    return this.current.get(key) as GatewaySetting;
  }

  private async refresh(): Promise<void> {
    const rows = await this.settings.find();
    this.current = new Map(rows.map((row) => [row.key, { value: row.value, updatedBy: row.updatedBy, updatedAt: row.updatedAt }]));
  }
}
