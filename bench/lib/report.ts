import type { Measurement } from './workloads';

export const SYSTEMS = ['direct', 'bare', 'gateway'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export interface RoundResult extends Measurement {
  readonly rssIdleMiB: number;
  readonly rssPeakMiB: number;
  /** CPU time of the system's process over the run's wall time; 100 is one core busy throughout. */
  readonly cpuPercent: number;
  /** CPU time of the system's process per operation (request, upload, session or stream opened). */
  readonly cpuMicrosPerOp: number;
  /** CPU of the local PostgreSQL server during a gateway run (100 = one core), when there is one. */
  readonly databaseCpuPercent?: number;
}

/** A system's representative round, with the worst memory seen in any round. */
export interface SystemResult extends RoundResult {
  readonly rssPeakMiB: number;
  /** Peak minus the RSS right before the run started. */
  readonly rssGrowthMiB: number;
  readonly rounds: readonly RoundResult[];
}

export interface WorkloadResult {
  readonly id: string;
  readonly label: string;
  readonly primary: 'perSecond' | 'mibPerSecond';
  readonly systems: Record<SystemName, SystemResult>;
}

export interface TargetCheck {
  readonly target: string;
  readonly value: number | undefined;
  readonly limit: string;
  readonly pass: boolean | undefined;
}

/**
 * The median round by the workload's primary number (the better of two), so one lucky or unlucky run
 * does not decide; memory is the worst of all rounds.
 */
export function pickRepresentative(rounds: readonly RoundResult[], primary: WorkloadResult['primary']): SystemResult {
  const ranked = [...rounds].sort((a, b) => b[primary] - a[primary]);
  const median = ranked[Math.floor((ranked.length - 1) / 2)];
  return {
    ...median,
    rssPeakMiB: Math.max(...rounds.map((round) => round.rssPeakMiB)),
    rssGrowthMiB: Math.max(...rounds.map((round) => round.rssPeakMiB - round.rssIdleMiB)),
    rounds,
  };
}

/** The targets, each a ratio or difference within this one run. */
export function evaluateTargets(results: readonly WorkloadResult[]): TargetCheck[] {
  const find = (id: string) => results.find((result) => result.id === id);
  const checks: TargetCheck[] = [];
  const ratio = (id: string, minimum: number) => {
    const result = find(id);
    if (!result) return;
    const value = result.systems.gateway[result.primary] / result.systems.bare[result.primary];
    checks.push({
      target: `${id}: gateway/bare ${result.primary === 'perSecond' ? 'req/s' : 'MiB/s'}`,
      value,
      limit: `>= ${minimum}`,
      pass: value >= minimum,
    });
  };
  ratio('get-c50', 0.8);
  for (const id of ['get-c1', 'get-c50', 'get-c200']) {
    const result = find(id);
    if (!result) continue;
    const { gateway, bare } = result.systems;
    const value =
      gateway.latencyMs.p99 !== undefined && bare.latencyMs.p99 !== undefined ? gateway.latencyMs.p99 - bare.latencyMs.p99 : undefined;
    checks.push({ target: `${id}: p99 added over bare (ms)`, value, limit: '<= 3', pass: value === undefined ? undefined : value <= 3 });
  }
  for (const id of ['upload-1mib', 'upload-100mib', 'exec-100mib', 'upload-1gib']) ratio(id, 0.9);
  const upload = find('upload-1gib');
  if (upload) {
    const value = upload.systems.gateway.rssGrowthMiB;
    checks.push({ target: 'upload-1gib: gateway RSS growth over idle (MiB)', value, limit: '<= 64', pass: value <= 64 });
  }
  const held = results.find((result) => result.id.startsWith('ws-hold-'));
  if (held) {
    const value = held.systems.gateway.rssPeakMiB;
    checks.push({ target: `${held.id}: gateway peak RSS (MiB)`, value, limit: '< 200', pass: value < 200 });
  }
  return checks;
}

const COLUMNS = [
  'workload',
  'system',
  'req/s',
  'p50 ms',
  'p99 ms',
  'p99.9 ms',
  'MiB/s',
  'CPU %',
  'CPU us/op',
  'RSS MiB',
  '+RSS MiB',
  '/bare',
  '/direct',
];

export function formatTable(results: readonly WorkloadResult[]): string {
  const rows: string[][] = [];
  for (const result of results) {
    const { direct, bare } = result.systems;
    for (const name of SYSTEMS) {
      const system = result.systems[name];
      const primary = system[result.primary];
      rows.push([
        name === 'direct' ? result.label : '',
        system.failures > 0 ? `${name} (${system.failures} failed)` : name,
        number(system.perSecond, system.perSecond >= 100 ? 0 : 1),
        number(system.latencyMs.p50, 2),
        number(system.latencyMs.p99, 2),
        number(system.latencyMs.p99_9, 2),
        number(system.mibPerSecond, 1),
        number(system.cpuPercent, 0),
        number(system.cpuMicrosPerOp, 0),
        number(system.rssPeakMiB, 0),
        number(system.rssGrowthMiB, 0),
        name === 'gateway' ? number(primary / bare[result.primary], 2) : '',
        name === 'direct' ? '' : number(primary / direct[result.primary], 2),
      ]);
    }
  }
  const widths = COLUMNS.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  const databaseCpu = results
    .filter((result) => result.systems.gateway.databaseCpuPercent !== undefined)
    .map((result) => `${result.id} ${number(result.systems.gateway.databaseCpuPercent, 0)}%`);
  return [
    line(COLUMNS),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
    ...(databaseCpu.length > 0
      ? ['', `CPU of the local Postgres server during the gateway's runs (not in its CPU %): ${databaseCpu.join(', ')}`]
      : []),
  ].join('\n');
}

export function formatTargets(checks: readonly TargetCheck[]): string {
  return [
    'Targets:',
    ...checks.map(
      (check) =>
        `  ${check.pass === undefined ? 'n/a ' : check.pass ? 'PASS' : 'FAIL'}  ${check.target} = ${number(check.value, 2)} (target ${check.limit})`,
    ),
  ].join('\n');
}

function number(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}
