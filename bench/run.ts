import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBenchDatabase } from './lib/bench-database';
import { summariseCpuProfile } from './lib/cpu-profile-summary';
import {
  RoundResult,
  SYSTEMS,
  SystemName,
  WorkloadResult,
  evaluateTargets,
  formatTable,
  formatTargets,
  pickRepresentative,
} from './lib/report';
import { readRssMiB } from '../test/support/process-memory';
import { DatabaseCpuSampler, ProcessSampler } from './lib/process-sampler';
import { PRODUCTION_RUNTIME_ENV, ServerProcess, compileForBench } from './lib/server-process';
import { MIB, Measurement, Target, execStreams, mebibyteUploads, openLogStreams, smallGets, streamedUploads } from './lib/workloads';

/**
 * `npm run bench`: what the gateway adds to every request, measured side by side in one run against
 * the upstream alone (direct) and a bare http-proxy (the floor for our proxy library). Each system
 * runs in its own process; workloads alternate between them round by round so machine noise hits all
 * three alike. `npm run bench -- --profile` instead profiles the gateway's CPU under load.
 * See bench/README.md.
 */

const RESULTS_DIR = resolve(__dirname, 'results');
const PROFILES_DIR = join(RESULTS_DIR, 'profiles');
const REPOSITORY = resolve(__dirname, '..');

interface Settings {
  readonly rounds: number;
  readonly noisyRounds: number;
  readonly getSeconds: number;
  readonly uploadSeconds: number;
  readonly heldStreams: number;
  /** 100 MiB uploads and exec sessions per run: a single one passes in a tenth of a second. */
  readonly streams: number;
}

interface Workload {
  readonly id: string;
  readonly label: string;
  /** The number the ratios compare. */
  readonly primary: 'perSecond' | 'mibPerSecond';
  /** Streams over loopback vary more from run to run than request rates do: they get more rounds. */
  readonly noisy?: boolean;
  run(target: Target): Promise<Measurement>;
}

function workloads(settings: Settings): Workload[] {
  const gets = [1, 50, 200].map((connections): Workload => ({
    id: `get-c${connections}`,
    label: `GET /apps c=${connections}`,
    primary: 'perSecond',
    run: (target) => smallGets(target, connections, settings.getSeconds),
  }));
  return [
    ...gets,
    {
      id: 'upload-1mib',
      label: 'upload 1 MiB c=10',
      primary: 'mibPerSecond',
      run: (target) => mebibyteUploads(target, 10, settings.uploadSeconds),
    },
    {
      id: 'upload-100mib',
      label: `upload 100 MiB x${settings.streams}`,
      primary: 'mibPerSecond',
      noisy: true,
      run: (target) => streamedUploads(target, 100 * MIB, settings.streams),
    },
    {
      id: 'exec-100mib',
      label: `ws exec 100 MiB x${settings.streams}`,
      primary: 'mibPerSecond',
      noisy: true,
      run: (target) => execStreams(target, 100 * MIB, settings.streams),
    },
    {
      id: `ws-hold-${settings.heldStreams}`,
      label: `ws logs ${settings.heldStreams} open`,
      primary: 'perSecond',
      run: async (target) => {
        const held = await openLogStreams(target, settings.heldStreams, 50);
        // Held open while the runner samples RSS: this is what idle streams cost.
        await sleep(2_000);
        await held.close();
        return held.opened;
      },
    },
    {
      id: 'upload-1gib',
      label: 'upload 1 GiB',
      primary: 'mibPerSecond',
      noisy: true,
      run: (target) => streamedUploads(target, 1024 * MIB, 1),
    },
  ];
}

interface RunningSystems {
  readonly processes: Record<SystemName, ServerProcess>;
  readonly targets: Record<SystemName, Target>;
  /** The gateway's database is a PostgreSQL server on this machine, whose CPU can be sampled. */
  readonly localDatabase: boolean;
  /** RSS of each system right after start, before any traffic. */
  readonly startupRssMiB: Record<SystemName, number>;
  stop(): Promise<void>;
}

/** Compiles, then starts the upstream, the bare proxy (unless left out) and the gateway, each alone in a process. */
async function startSystems(databaseUrl: string | undefined, include: readonly SystemName[] = SYSTEMS): Promise<RunningSystems> {
  const { build, remove } = compileForBench();
  const started: ServerProcess[] = [];
  const stop = async () => {
    await stopAll(started);
    remove();
  };
  try {
    const upstream = await ServerProcess.start(build, 'upstream', 'upstream');
    started.push(upstream);
    const [bare, gateway] = await Promise.all([
      include.includes('bare') ? ServerProcess.start(build, 'bare', 'bare-proxy', [upstream.url]) : Promise.resolve(upstream),
      ServerProcess.start(build, 'gateway', 'gateway', [
        JSON.stringify({ upstreamUrl: upstream.url, databaseUrl, redisUrl: process.env.REDIS_URL }),
      ]),
    ]);
    started.push(bare, gateway);
    // The same credential goes to every system, so each sees identical request bytes.
    const authorization = `Basic ${Buffer.from(`convox:${gateway.token ?? ''}`).toString('base64')}`;
    const processes = { direct: upstream, bare, gateway };
    const targets = {
      direct: { url: upstream.url, authorization },
      bare: { url: bare.url, authorization },
      gateway: { url: gateway.url, authorization },
    };
    const startupRssMiB = { direct: readRssMiB(upstream.pid), bare: readRssMiB(bare.pid), gateway: readRssMiB(gateway.pid) };
    const localDatabase = databaseUrl !== undefined && ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(databaseUrl).hostname);
    return { processes, targets, localDatabase, startupRssMiB, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Proxies first, the upstream last, so nothing in flight meets a closed upstream. */
async function stopAll(processes: readonly ServerProcess[]): Promise<void> {
  for (const process of [...new Set(processes)].reverse()) await process.stop();
}

async function benchmark(settings: Settings, only: ReadonlySet<string> | undefined): Promise<void> {
  const began = Date.now();
  // Other work on the machine skews everything; recorded so a noisy run can be recognised.
  const loadAtStart = loadavg();
  // Taken before compiling: the code measured is the tree as it is now.
  const commit = gitCommit();
  const database = await createBenchDatabase(process.env.DATABASE_URL);
  const systems = await startSystems(database.url).catch(async (error: Error) => {
    await database.drop();
    throw error;
  });
  const results: WorkloadResult[] = [];
  try {
    log(`systems up: direct ${systems.targets.direct.url}, bare ${systems.targets.bare.url}, gateway ${systems.targets.gateway.url}`);
    log(`gateway database: ${database.description}; rate-limit counters: ${process.env.REDIS_URL ? 'Redis' : 'in memory'}`);
    await warmUp(systems);
    for (const workload of workloads(settings)) {
      if (only && !only.has(workload.id)) continue;
      results.push(await measureWorkload(workload, systems, workload.noisy ? settings.noisyRounds : settings.rounds));
    }
  } finally {
    await systems.stop();
    await database.drop();
  }

  const targets = evaluateTargets(results);
  const report = {
    date: new Date().toISOString(),
    commit,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      kernel: release(),
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg(),
    },
    node: process.version,
    runtimeEnv: PRODUCTION_RUNTIME_ENV,
    database: database.description,
    rateLimitCounters: process.env.REDIS_URL ? 'redis' : 'memory',
    settings,
    startupRssMiB: systems.startupRssMiB,
    seconds: Math.round((Date.now() - began) / 1000),
    ...flatRatios(results),
    targets,
    results,
  };
  const table = formatTable(results);
  process.stdout.write(`\n${table}\n\n${formatTargets(targets)}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${report.date.slice(0, 19).replace(/:/g, '-')}-${report.commit.short}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwritten ${relative(REPOSITORY, file)} (${report.seconds} s)\n`);
}

/** JIT, connection pools and the gateway's caches warm on every system before anything counts. */
async function warmUp(systems: RunningSystems): Promise<void> {
  log('warming up');
  for (const name of SYSTEMS) {
    await smallGets(systems.targets[name], 50, 2);
    await mebibyteUploads(systems.targets[name], 4, 1);
    await execStreams(systems.targets[name], 4 * MIB, 1);
  }
}

/** Runs a workload on every system, round after round, alternating the order (ABC, CBA, ABC...). */
async function measureWorkload(workload: Workload, systems: RunningSystems, rounds: number): Promise<WorkloadResult> {
  const runs: Record<SystemName, RoundResult[]> = { direct: [], bare: [], gateway: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
    for (const name of order) {
      const sampler = new ProcessSampler(systems.processes[name].pid);
      const database = systems.localDatabase && name === 'gateway' ? new DatabaseCpuSampler() : undefined;
      const measurement = await workload.run(systems.targets[name]);
      const usage = sampler.stop();
      const databaseCpuPercent = database?.stop();
      const cpuPercent = (100 * usage.cpuSeconds) / usage.wallSeconds;
      const cpuMicrosPerOp = measurement.samples > 0 ? (usage.cpuSeconds * 1e6) / measurement.samples : 0;
      runs[name].push({
        ...measurement,
        rssIdleMiB: usage.rssIdleMiB,
        rssPeakMiB: usage.rssPeakMiB,
        cpuPercent,
        cpuMicrosPerOp,
        databaseCpuPercent,
      });
      log(
        `${workload.id} round ${round + 1} ${name}: ${measurement.perSecond.toFixed(1)}/s ${measurement.mibPerSecond.toFixed(1)} MiB/s ` +
          `p99 ${measurement.latencyMs.p99?.toFixed(2) ?? '-'} ms, CPU ${cpuPercent.toFixed(0)}%` +
          (databaseCpuPercent === undefined ? '' : ` (+ Postgres ${databaseCpuPercent.toFixed(0)}%)`) +
          `, RSS ${usage.rssPeakMiB.toFixed(0)} MiB` +
          (measurement.failures ? `, ${measurement.failures} FAILED` : ''),
      );
      await sleep(250);
    }
  }
  const systemsResult = Object.fromEntries(
    SYSTEMS.map((name) => [name, pickRepresentative(runs[name], workload.primary)]),
  ) as WorkloadResult['systems'];
  return { id: workload.id, label: workload.label, primary: workload.primary, systems: systemsResult };
}

/** Flat keys for dashboards and diffs; `gateway_over_bare_rps_c50` is the headline. */
function flatRatios(results: readonly WorkloadResult[]): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const result of results) {
    const { direct, bare, gateway } = result.systems;
    const metric = result.primary;
    const suffix = result.id.startsWith('get-')
      ? `rps_${result.id.slice(4)}`
      : `${metric === 'perSecond' ? 'per_s' : 'mibps'}_${result.id}`;
    const key = suffix.replace(/-/g, '_');
    flat[`gateway_over_bare_${key}`] = round3(gateway[metric] / bare[metric]);
    flat[`gateway_over_direct_${key}`] = round3(gateway[metric] / direct[metric]);
    flat[`bare_over_direct_${key}`] = round3(bare[metric] / direct[metric]);
    if (gateway.latencyMs.p99 !== undefined && bare.latencyMs.p99 !== undefined) {
      flat[`gateway_added_p99_ms_${result.id.replace(/-/g, '_')}`] = round3(gateway.latencyMs.p99 - bare.latencyMs.p99);
    }
    flat[`gateway_rss_peak_mib_${result.id.replace(/-/g, '_')}`] = Math.round(gateway.rssPeakMiB);
    flat[`gateway_rss_growth_mib_${result.id.replace(/-/g, '_')}`] = Math.round(gateway.rssGrowthMiB);
  }
  return flat;
}

/**
 * `--profile`: one system (the gateway unless `--system bare`) under one workload (c=50 GETs unless
 * `--workload` names another), sampled by V8's profiler from warm to done.
 */
async function profile(settings: Settings, workloadId: string, system: SystemName): Promise<void> {
  const workload = workloads(settings).find((candidate) => candidate.id === workloadId);
  if (!workload)
    throw new Error(
      `no workload ${workloadId}; one of ${workloads(settings)
        .map((candidate) => candidate.id)
        .join(', ')}`,
    );
  const database = await createBenchDatabase(process.env.DATABASE_URL);
  const systems = await startSystems(database.url, system === 'bare' ? SYSTEMS : ['direct', 'gateway']);
  const profiled = systems.processes[system];
  const target = systems.targets[system];
  mkdirSync(PROFILES_DIR, { recursive: true });
  const stamp = `${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}-${gitCommit().short}`;
  const path = join(PROFILES_DIR, `${system}-${workload.id}-${stamp}.cpuprofile`);
  try {
    log(`gateway database: ${database.description}; warming up`);
    await smallGets(target, 50, 3);
    await profiled.startProfile();
    const sampler = new ProcessSampler(profiled.pid);
    const measurement = await workload.run(target);
    const usage = sampler.stop();
    await profiled.stopProfile(path);
    log(
      `${workload.label} on ${system} under the profiler: ${measurement.perSecond.toFixed(0)}/s, ${measurement.mibPerSecond.toFixed(1)} MiB/s, ` +
        `CPU ${((100 * usage.cpuSeconds) / usage.wallSeconds).toFixed(0)}%, ${((usage.cpuSeconds * 1e6) / Math.max(1, measurement.samples)).toFixed(0)} us/op ` +
        '(the profiler slows it down; compare runs of the plain bench, not these)',
    );
  } finally {
    await systems.stop();
    await database.drop();
  }
  const summary = summariseCpuProfile(path);
  writeFileSync(path.replace(/\.cpuprofile$/, '.txt'), `${summary}\n`);
  process.stdout.write(`\n${summary}\n\nprofile: ${relative(REPOSITORY, path)} (open in Chrome DevTools > Performance, or speedscope)\n`);
}

function gitCommit(): { sha: string; short: string; dirty: boolean; srcDirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPOSITORY, encoding: 'utf8' }).trim();
  try {
    const sha = git('rev-parse', 'HEAD');
    return {
      sha,
      short: sha.slice(0, 7),
      dirty: git('status', '--porcelain').length > 0,
      srcDirty: git('status', '--porcelain', '--', 'src').length > 0,
    };
  } catch {
    return { sha: 'unknown', short: 'nogit', dirty: true, srcDirty: true };
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'boolean', default: false },
      workload: { type: 'string', default: 'get-c50' },
      system: { type: 'string', default: 'gateway' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      analyse: { type: 'string' },
    },
  });
  if (values.analyse !== undefined) {
    process.stdout.write(`${summariseCpuProfile(values.analyse)}\n`);
    return;
  }
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 3));
  const settings: Settings = {
    rounds,
    noisyRounds: values.quick ? rounds : rounds + 2,
    getSeconds: values.quick ? 2 : 5,
    uploadSeconds: values.quick ? 1 : 3,
    heldStreams: 1000,
    streams: values.quick ? 2 : 8,
  };
  if (values.profile) {
    if (values.system !== 'gateway' && values.system !== 'bare') throw new Error('--system is gateway or bare');
    await profile({ ...settings, getSeconds: 10, uploadSeconds: 10 }, values.workload, values.system);
    return;
  }
  await benchmark(settings, values.only ? new Set(values.only.split(',')) : undefined);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
