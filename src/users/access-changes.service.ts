import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';

const CHANNEL = 'rgw_access_changed';
const RECONNECT_DELAY_MS = 1_000;

/**
 * Which access changed: one user's (role, scopes, disabled, deleted), or one token's. Announced after
 * the change commits; what must end with it (sessions) has already ended in its transaction.
 */
export type AccessChange = { readonly userId: string } | { readonly tokenId: string };

/**
 * Tells every gateway instance that someone's access changed, so caches of tokens and users drop it
 * before the next request. In-process listeners hear at once; other instances through Postgres
 * NOTIFY. While the LISTEN connection is down this instance cannot know what others changed, so it
 * reports itself unsynchronised and caches must not be trusted (fail closed: go to the database).
 */
@Injectable()
export class AccessChanges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AccessChanges.name);
  private readonly listeners = new Set<(change: AccessChange) => void>();
  private listenClient: Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** True when this instance alone writes the database (embedded), or while LISTEN is live. */
  private synchronised: boolean;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.synchronised = config.database.url === undefined;
  }

  get isSynchronised(): boolean {
    return this.synchronised;
  }

  onChange(listener: (change: AccessChange) => void): void {
    this.listeners.add(listener);
  }

  async announce(change: AccessChange): Promise<void> {
    this.emit(change);
    if (this.config.database.url) await this.dataSource.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(change)]);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.url) await this.listen(this.config.database.url);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.listenClient?.end().catch(() => undefined);
  }

  private async listen(url: string): Promise<void> {
    const client = new Client({ connectionString: url });
    const lost = (error?: Error) => {
      if (this.listenClient !== client) return;
      this.listenClient = undefined;
      this.synchronised = false;
      this.emit({ userId: '*' });
      if (this.stopped) return;
      this.logger.warn(`lost the access-change channel (${error?.message ?? 'closed'}); retrying`);
      this.reconnectTimer = setTimeout(() => void this.listen(url), RECONNECT_DELAY_MS);
    };
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) this.emit(JSON.parse(message.payload) as AccessChange);
    });
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.listenClient = client;
      // Anything may have changed while we were not listening.
      this.emit({ userId: '*' });
      this.synchronised = true;
    } catch (error) {
      this.listenClient = client;
      lost(error as Error);
    }
  }

  private emit(change: AccessChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
