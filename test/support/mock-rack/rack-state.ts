import { EventEmitter } from 'node:events';
import { gzipSync } from 'node:zlib';

import { RackClock, TimerRegistry } from './rack-clock';
import {
  appParameters,
  buildLogLines,
  createSeed,
  DEFAULT_MANIFEST,
  RACK_DOMAIN,
  rackProcess,
  type RackSeed,
  webService,
  workerService,
} from './rack-seed';
import {
  goMap,
  type RackApp,
  type RackAppConfig,
  type RackBuild,
  type RackInstance,
  type RackKeyPair,
  type RackObjectUrl,
  type RackProcess,
  type RackRegistry,
  type RackRelease,
  type RackResource,
  type RackService,
  type RackSystem,
  type StringMap,
} from './rack-structs';
import { badRequest, conflict, formatGoTime, GO_ZERO_TIME, notFound } from './rack-wire';
import { describeEnvChange, environmentMap } from './release-environment';
import { tarArchive } from './tar-archive';

/**
 * The rack's in-memory model: what the k8s provider would keep in CRDs, deployments and S3, with the same
 * error messages. Everything is deterministic: ids come from a seeded generator that reset() rewinds.
 */

export interface StoredObject {
  app: string;
  key: string;
  size: number;
  sha256: string;
  public: boolean;
  /** Only bodies under the retention limit keep their bytes; larger ones keep just size and hash. */
  bytes: Buffer | null;
}

export interface ObjectUpload {
  size: number;
  sha256: string;
  bytes: Buffer | null;
  public: boolean;
}

/** One `convox run`: what the rack was asked to start, including the secret-bearing Environment header. */
export interface ProcessRunRecord {
  id: string;
  app: string;
  service: string;
  command: string;
  release: string;
  environment: StringMap;
}

export interface RackTimings {
  /** A build goes created → running → complete over this many milliseconds. */
  buildMs: number;
  /** A `convox run` process stays pending this long. */
  processStartMs: number;
  /** A new app stays `creating` this long. */
  appCreateMs: number;
}

export interface BuildCreateRequest {
  url: string;
  description?: string;
  gitSha?: string;
  external: boolean;
}

export interface BuildUpdateRequest {
  ended?: string;
  started?: string;
  entrypoint?: string;
  logs?: string;
  manifest?: string;
  release?: string;
  status?: string;
}

export interface ReleaseCreateRequest {
  build?: string;
  description?: string;
  env?: string;
  parentRelease?: string;
}

export interface ServiceUpdateRequest {
  count?: number;
  cpu?: number;
  memory?: number;
  min?: number;
  max?: number;
}

export interface ProcessRunRequest {
  command?: string;
  environment: StringMap;
  release?: string;
}

export interface BuildWatcher {
  line(text: string): void;
  end(): void;
}

export interface MockRackStateSnapshot {
  system: RackSystem;
  apps: RackApp[];
  builds: RackBuild[];
  releases: RackRelease[];
  services: Record<string, RackService[]>;
  processes: RackProcess[];
  processRuns: ProcessRunRecord[];
  objects: Array<Omit<StoredObject, 'bytes'>>;
  configs: Array<RackAppConfig & { app: string }>;
  appResources: Record<string, RackResource[]>;
  rackResources: RackResource[];
  registries: RackRegistry[];
  instances: RackInstance[];
}

/** Builds whose description contains this marker fail, so the CLI's failure path can be exercised. */
export const BUILD_FAILURE_MARKER = 'mock:fail';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const POD_SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';
const POD_HASH = 'bcdf456789';

/** mulberry32: tiny, seedable, and good enough for ids. */
class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  string(alphabet: string, length: number): string {
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(this.next() * alphabet.length)];
    return text;
  }
}

interface BuildRecord {
  seq: number;
  build: RackBuild;
  logLines: string[];
}

interface ReleaseRecord {
  seq: number;
  release: RackRelease;
}

export class RackState {
  private random = new SeededRandom(0x5eed);
  private seq = 0;
  private system: RackSystem = createSeed().system;
  private apps = new Map<string, RackApp>();
  private builds = new Map<string, BuildRecord>();
  private releases = new Map<string, ReleaseRecord>();
  private services = new Map<string, RackService[]>();
  private processes = new Map<string, RackProcess>();
  private systemProcesses: RackProcess[] = [];
  private systemReleases: RackRelease[] = [];
  private processRuns: ProcessRunRecord[] = [];
  private objects = new Map<string, StoredObject>();
  private configs = new Map<string, Map<string, string>>();
  private appResources = new Map<string, RackResource[]>();
  private rackResources: RackResource[] = [];
  private registries = new Map<string, RackRegistry>();
  private instances = new Map<string, RackInstance>();
  private keyrolls = 0;
  private readonly buildEvents = new EventEmitter();
  private readonly timers = new TimerRegistry();

  constructor(
    private readonly password: string,
    private readonly timings: RackTimings,
    private readonly clock: RackClock,
  ) {
    this.buildEvents.setMaxListeners(0);
    this.load(createSeed());
  }

  /** Back to the seed: cancels pending lifecycle timers and rewinds the id generator. */
  reset(): void {
    this.timers.cancelAll();
    this.buildEvents.removeAllListeners();
    this.load(createSeed());
  }

  dispose(): void {
    this.timers.cancelAll();
    this.buildEvents.removeAllListeners();
  }

  private load(seed: RackSeed): void {
    const copy = structuredClone(seed);
    this.random = new SeededRandom(0x5eed);
    this.seq = 0;
    this.keyrolls = 0;
    this.system = copy.system;
    this.apps = new Map(copy.apps.map((app) => [app.name, app]));
    this.builds = new Map(copy.builds.map((record) => [record.build.id, { seq: this.seq++, ...record }]));
    this.releases = new Map(copy.releases.map((release) => [release.id, { seq: this.seq++, release }]));
    this.services = new Map(copy.services.map(({ app, services }) => [app, services]));
    this.processes = new Map(copy.processes.map((process) => [process.id, process]));
    this.systemProcesses = copy.systemProcesses;
    this.systemReleases = copy.systemReleases;
    this.processRuns = [];
    this.objects = new Map();
    this.configs = new Map();
    for (const { app, name, value } of copy.configs) this.appConfigs(app).set(name, value);
    this.appResources = new Map();
    for (const { app, resource } of copy.appResources) this.appResources.set(app, [...(this.appResources.get(app) ?? []), resource]);
    this.rackResources = copy.rackResources;
    this.registries = new Map(copy.registries.map((registry) => [registry.server, registry]));
    this.instances = new Map(copy.instances.map((instance) => [instance.id, instance]));
  }

  private now(): string {
    return formatGoTime(this.clock.now());
  }

  private uniqueId(prefix: 'B' | 'R'): string {
    for (;;) {
      const id = prefix + this.random.string(UPPER, 10);
      if (!this.builds.has(id) && !this.releases.has(id)) return id;
    }
  }

  // --- system ---

  getSystem(): RackSystem {
    return this.system;
  }

  listSystemProcesses(all: boolean): RackProcess[] {
    return all ? [...this.systemProcesses, ...sortProcesses([...this.processes.values()])] : this.systemProcesses;
  }

  listSystemReleases(): RackRelease[] {
    return this.systemReleases;
  }

  // --- apps ---

  listApps(): RackApp[] {
    return [...this.apps.values()].sort((a, b) => compare(a.name, b.name));
  }

  getApp(name: string): RackApp {
    const app = this.apps.get(name);
    if (!app) throw notFound(`app not found: ${name}`);
    return app;
  }

  createApp(name: string, generation: string): RackApp {
    if (this.apps.has(name)) throw conflict(`app already exists: ${name}`);
    const app: RackApp = {
      generation,
      locked: false,
      name,
      release: '',
      router: `router.${RACK_DOMAIN}`,
      status: 'creating',
      parameters: goMap(appParameters(name)),
    };
    this.apps.set(name, app);
    this.services.set(name, []);
    this.timers.schedule(this.timings.appCreateMs, () => {
      if (this.apps.get(name) === app) app.status = 'running';
    });
    return app;
  }

  updateApp(name: string, update: { lock?: boolean; parameters?: StringMap }): void {
    const app = this.getApp(name);
    if (update.lock !== undefined) app.locked = update.lock;
    if (update.parameters) app.parameters = goMap({ ...app.parameters, ...update.parameters });
  }

  deleteApp(name: string): void {
    const app = this.getApp(name);
    if (app.locked) throw conflict(`app is locked: ${name}`);
    this.apps.delete(name);
    this.services.delete(name);
    this.configs.delete(name);
    this.appResources.delete(name);
    const owned = <T extends { app: string }>(map: Map<string, T>, pick: (value: T) => boolean): void => {
      for (const [key, value] of map) if (pick(value)) map.delete(key);
    };
    owned(this.processes, (process) => process.app === name);
    owned(this.objects, (object) => object.app === name);
    for (const [id, record] of this.builds) if (record.build.app === name) this.builds.delete(id);
    for (const [id, record] of this.releases) if (record.release.app === name) this.releases.delete(id);
  }

  // --- configs ---

  private appConfigs(app: string): Map<string, string> {
    let configs = this.configs.get(app);
    if (!configs) {
      configs = new Map();
      this.configs.set(app, configs);
    }
    return configs;
  }

  listConfigs(app: string): RackAppConfig[] {
    this.getApp(app);
    return [...this.appConfigs(app)].sort(([a], [b]) => compare(a, b)).map(([name, value]) => ({ name, value }));
  }

  getConfig(app: string, name: string): RackAppConfig {
    this.getApp(app);
    const value = this.appConfigs(app).get(name);
    if (value === undefined) throw notFound(`app config not found: ${name}`);
    return { name, value };
  }

  setConfig(app: string, name: string, value: string): void {
    this.getApp(app);
    this.appConfigs(app).set(name, value);
  }

  // --- objects ---

  /** An empty key gets a generated `tmp/` key, as the providers do. */
  storeObject(app: string, key: string, upload: ObjectUpload): RackObjectUrl {
    const storedKey = key === '' ? `tmp/${this.random.string('0123456789abcdef', 30)}` : key;
    this.objects.set(`${app}/${storedKey}`, { app, key: storedKey, ...upload });
    return { Url: `object://${app}/${storedKey}` };
  }

  getObject(app: string, key: string): StoredObject {
    const object = this.objects.get(`${app}/${key}`);
    if (!object) throw notFound(`object not found: ${key}`);
    return object;
  }

  objectExists(app: string, key: string): boolean {
    return this.objects.has(`${app}/${key}`);
  }

  deleteObject(app: string, key: string): void {
    this.getObject(app, key);
    this.objects.delete(`${app}/${key}`);
  }

  // --- builds ---

  listBuilds(app: string, limit: number): RackBuild[] {
    this.getApp(app);
    return [...this.builds.values()]
      .filter((record) => record.build.app === app)
      .sort((a, b) => b.seq - a.seq)
      .slice(0, limit)
      .map((record) => record.build);
  }

  getBuild(app: string, id: string): RackBuild {
    return this.buildRecord(app, id).build;
  }

  buildLogLines(app: string, id: string): readonly string[] {
    return this.buildRecord(app, id).logLines;
  }

  private buildRecord(app: string, id: string): BuildRecord {
    this.getApp(app);
    const record = this.builds.get(id);
    if (!record || record.build.app !== app) throw notFound(`build not found: ${id}`);
    return record;
  }

  createBuild(app: string, request: BuildCreateRequest): RackBuild {
    this.getApp(app);
    const source = /^object:\/\/([^/]+)\/(.+)$/.exec(request.url);
    if (!source) throw badRequest(`url: unsupported source ${request.url}`);
    this.getObject(source[1], source[2]);

    const record = this.addBuild(app, { description: request.description ?? '', 'git-sha': request.gitSha ?? '', status: 'created' });
    if (request.external) {
      // The k8s provider puts the rack password in the push URL, on the create response only.
      return { ...record.build, repository: `https://convox:${this.password}@api.${RACK_DOMAIN}/${app}` };
    }
    this.progressBuild(record, record.build.description.includes(BUILD_FAILURE_MARKER));
    return record.build;
  }

  private addBuild(app: string, fields: Partial<RackBuild>): BuildRecord {
    const id = this.uniqueId('B');
    const build: RackBuild = {
      id,
      app,
      description: '',
      entrypoint: '',
      'git-sha': '',
      logs: '',
      manifest: '',
      process: '',
      release: '',
      reason: '',
      repository: '',
      status: 'created',
      started: this.now(),
      ended: GO_ZERO_TIME,
      ...fields,
    };
    const record: BuildRecord = { seq: this.seq++, build, logLines: [] };
    this.builds.set(id, record);
    return record;
  }

  private progressBuild(record: BuildRecord, fail: boolean): void {
    const { buildMs } = this.timings;
    const runningAt = buildMs / 5;
    const lines = buildLogLines(record.build.app, record.build.id);
    const alive = (): boolean => this.builds.get(record.build.id) === record;
    this.timers.schedule(runningAt, () => {
      if (alive()) record.build.status = 'running';
    });
    lines.forEach((line, index) => {
      this.timers.schedule(runningAt + ((buildMs - runningAt) * (index + 1)) / (lines.length + 1), () => {
        if (alive()) this.appendBuildLog(record, line);
      });
    });
    this.timers.schedule(buildMs, () => {
      if (alive()) this.finishBuild(record, fail);
    });
  }

  private appendBuildLog(record: BuildRecord, line: string): void {
    record.logLines.push(line);
    this.buildEvents.emit(`line:${record.build.id}`, line);
  }

  private finishBuild(record: BuildRecord, fail: boolean): void {
    const { build } = record;
    build.manifest = DEFAULT_MANIFEST;
    build.logs = `object://${build.app}/build/${build.id}/logs`;
    if (fail) {
      this.appendBuildLog(record, 'ERROR: mock build failure\n');
      build.status = 'failed';
      build.reason = 'mock build failure';
    } else {
      build.release = this.createRelease(build.app, { build: build.id }).id;
      build.status = 'complete';
    }
    build.ended = this.now();
    this.buildEvents.emit(`end:${build.id}`);
  }

  isBuildFinished(build: RackBuild): boolean {
    return build.status === 'complete' || build.status === 'failed';
  }

  /** Subscribes to a build's new log lines and its end; returns the unsubscribe function. */
  watchBuild(id: string, watcher: BuildWatcher): () => void {
    const onLine = (text: string): void => watcher.line(text);
    const onEnd = (): void => watcher.end();
    this.buildEvents.on(`line:${id}`, onLine);
    this.buildEvents.on(`end:${id}`, onEnd);
    return () => {
      this.buildEvents.off(`line:${id}`, onLine);
      this.buildEvents.off(`end:${id}`, onEnd);
    };
  }

  updateBuild(app: string, id: string, update: BuildUpdateRequest): RackBuild {
    const record = this.buildRecord(app, id);
    const { build } = record;
    if (update.started !== undefined) build.started = update.started;
    if (update.ended !== undefined) build.ended = update.ended;
    if (update.entrypoint !== undefined) build.entrypoint = update.entrypoint;
    if (update.logs !== undefined) build.logs = update.logs;
    if (update.manifest !== undefined) build.manifest = update.manifest;
    if (update.release !== undefined) build.release = update.release;
    if (update.status !== undefined) {
      build.status = parseBuildStatus(update.status);
      if (this.isBuildFinished(build)) this.buildEvents.emit(`end:${build.id}`);
    }
    return build;
  }

  /** `convox builds import`: the archive is only hashed, and yields a complete build with a release. */
  importBuild(app: string): RackBuild {
    this.getApp(app);
    const record = this.addBuild(app, { description: 'imported build', manifest: DEFAULT_MANIFEST, status: 'running' });
    const { build } = record;
    record.logLines.push(...buildLogLines(app, build.id));
    build.release = this.createRelease(app, { build: build.id }).id;
    build.status = 'complete';
    build.logs = `object://${app}/build/${build.id}/logs`;
    build.ended = this.now();
    return build;
  }

  exportBuild(app: string, id: string): Buffer {
    const build = this.getBuild(app, id);
    const metadata = Buffer.from(`${JSON.stringify(build, null, 2)}\n`);
    return gzipSync(tarArchive([{ name: 'build.json', content: metadata }]));
  }

  // --- releases ---

  listReleases(app: string, limit: number): RackRelease[] {
    this.getApp(app);
    return [...this.releases.values()]
      .filter((record) => record.release.app === app)
      .sort((a, b) => b.seq - a.seq)
      .slice(0, limit)
      .map((record) => record.release);
  }

  getRelease(app: string, id: string): RackRelease {
    this.getApp(app);
    const record = this.releases.get(id);
    if (!record || record.release.app !== app) throw notFound(`release not found: ${id}`);
    return record.release;
  }

  /** provider/k8s ReleaseCreate: fork the parent (or latest) release, then apply build, env and description. */
  createRelease(app: string, request: ReleaseCreateRequest): RackRelease {
    const parent = request.parentRelease ? this.getRelease(app, request.parentRelease) : this.listReleases(app, 1)[0];
    const release: RackRelease = {
      id: this.uniqueId('R'),
      app,
      build: parent?.build ?? '',
      env: parent?.env ?? '',
      manifest: '',
      description: '',
      created: this.now(),
    };
    if (request.build !== undefined) release.build = request.build;
    if (release.build !== '') {
      const build = this.getBuild(app, release.build);
      release.description = build.description;
      release.manifest = build.manifest;
    }
    if (request.env !== undefined) {
      const diff = describeEnvChange(release.env, request.env);
      if (diff !== '') release.description = `env ${diff}`;
      release.env = request.env;
    }
    if (request.description !== undefined) release.description = request.description;
    this.releases.set(release.id, { seq: this.seq++, release });
    return release;
  }

  beginPromote(app: string, id: string): void {
    this.getRelease(app, id);
    this.getApp(app).status = 'updating';
  }

  /** Completes a promotion unless the app was deleted or reset meanwhile. */
  finishPromote(app: string, id: string): void {
    const current = this.apps.get(app);
    const record = this.releases.get(id);
    if (!current || !record) return;
    current.release = id;
    current.status = 'running';
    // An app's first promotion brings up the services of its manifest.
    if ((this.services.get(app)?.length ?? 0) === 0) {
      this.services.set(app, [webService(app, 1), workerService(1)]);
      this.resizeService(app, 'web', 1);
      this.resizeService(app, 'worker', 1);
    }
    for (const process of this.processes.values()) {
      if (process.app !== app || isOneOffProcess(process)) continue;
      process.release = id;
      process.image = process.image.replace(/\.[A-Z]*$/, `.${record.release.build}`);
    }
  }

  // --- processes ---

  listProcesses(app: string, filter: { service?: string; release?: string }): RackProcess[] {
    this.getApp(app);
    return sortProcesses(
      [...this.processes.values()].filter(
        (process) =>
          process.app === app &&
          (!filter.service || process.service === filter.service) &&
          (!filter.release || process.release === filter.release),
      ),
    );
  }

  getProcess(app: string, pid: string): RackProcess {
    this.getApp(app);
    const process = this.processes.get(pid);
    if (!process || process.app !== app) throw notFound(`process not found: ${pid}`);
    return process;
  }

  /** Exec accepts a pid or a service name; for a service the k8s provider picks one of its running pods. */
  resolveExecTarget(app: string, target: string): RackProcess {
    this.getApp(app);
    const process = this.processes.get(target);
    if (process?.app === app) return process;
    const byService = this.listProcesses(app, { service: target }).find((candidate) => candidate.status === 'running');
    if (byService) return byService;
    throw notFound(`process not found: ${target}`);
  }

  stopProcess(app: string, pid: string): void {
    this.getProcess(app, pid);
    this.processes.delete(pid);
  }

  runProcess(app: string, service: string, request: ProcessRunRequest): RackProcess {
    const current = this.getApp(app);
    if (!this.services.get(app)?.some((candidate) => candidate.name === service)) {
      throw badRequest(`service ${service} not found in current release manifest`);
    }
    const release = this.getRelease(app, request.release || current.release);
    const process = rackProcess(
      {
        id: `${service}-run-${this.random.string(POD_SUFFIX, 5)}`,
        app,
        service,
        release: release.id,
        build: release.build,
        instanceIndex: this.processes.size,
        startedOffset: 0,
        command: request.command ?? '',
      },
      this.now(),
    );
    process.status = 'pending';
    this.processes.set(process.id, process);
    this.processRuns.push({
      id: process.id,
      app,
      service,
      command: process.command,
      release: release.id,
      environment: goMap(request.environment),
    });
    this.timers.schedule(this.timings.processStartMs, () => {
      if (this.processes.get(process.id) === process) process.status = 'running';
    });
    return process;
  }

  /** The environment a process of this release runs with; empty before the app's first release. */
  releaseEnvironment(app: string, releaseId: string): StringMap {
    const record = this.releases.get(releaseId);
    return record?.release.app === app ? environmentMap(record.release.env) : {};
  }

  // --- services ---

  listServices(app: string): RackService[] {
    const current = this.getApp(app);
    if (current.release === '') return [];
    return this.services.get(app) ?? [];
  }

  private getService(app: string, name: string): RackService {
    const service = this.listServices(app).find((candidate) => candidate.name === name);
    if (!service) throw notFound(`service not found: ${app}/${name}`);
    return service;
  }

  updateService(app: string, name: string, update: ServiceUpdateRequest): void {
    const service = this.getService(app, name);
    if (update.cpu !== undefined) service.cpu = update.cpu;
    if (update.memory !== undefined) service.memory = update.memory;
    if (update.min !== undefined) service.min = update.min;
    if (update.max !== undefined) service.max = update.max;
    if (update.count !== undefined) {
      service.count = update.count;
      this.resizeService(app, name, update.count);
    }
  }

  restartService(app: string, name: string): void {
    this.getService(app, name);
  }

  /** Scaling adds or removes deployment pods; one-off `run` pods are left alone. */
  private resizeService(app: string, service: string, count: number): void {
    const pods = [...this.processes.values()].filter(
      (process) => process.app === app && process.service === service && !isOneOffProcess(process),
    );
    for (const surplus of pods.slice(count)) this.processes.delete(surplus.id);
    const current = this.getApp(app);
    const release = current.release === '' ? undefined : this.getRelease(app, current.release);
    const hash = pods[0]?.id.split('-').at(-2) ?? this.random.string(POD_HASH, 9);
    for (let index = pods.length; index < count; index++) {
      const id = `${service}-${hash}-${this.random.string(POD_SUFFIX, 5)}`;
      this.processes.set(
        id,
        rackProcess(
          { id, app, service, release: release?.id ?? '', build: release?.build ?? '', instanceIndex: index, startedOffset: 0 },
          this.now(),
        ),
      );
    }
  }

  // --- resources, registries, instances ---

  listAppResources(app: string): RackResource[] {
    this.getApp(app);
    return this.appResources.get(app) ?? [];
  }

  getAppResource(app: string, name: string): RackResource {
    const resource = this.listAppResources(app).find((candidate) => candidate.name === name);
    if (!resource) throw notFound(`no such resource: ${name}`);
    return resource;
  }

  listRackResources(): RackResource[] {
    return this.rackResources;
  }

  getRackResource(name: string): RackResource {
    const resource = this.rackResources.find((candidate) => candidate.name === name);
    if (!resource) throw notFound(`no such resource: ${name}`);
    return resource;
  }

  listRegistries(): RackRegistry[] {
    return [...this.registries.values()].sort((a, b) => compare(a.server, b.server));
  }

  addRegistry(registry: RackRegistry): RackRegistry {
    this.registries.set(registry.server, registry);
    return registry;
  }

  removeRegistry(server: string): void {
    if (!this.registries.delete(server)) throw notFound(`no such registry: ${server}`);
  }

  listInstances(): RackInstance[] {
    return [...this.instances.values()];
  }

  getInstance(id: string): RackInstance {
    const instance = this.instances.get(id);
    if (!instance) throw notFound(`instance not found: ${id}`);
    return instance;
  }

  terminateInstance(id: string): void {
    this.getInstance(id);
    this.instances.delete(id);
  }

  keyroll(): RackKeyPair {
    this.keyrolls += 1;
    const body = Buffer.from(`mock-rack private key ${this.keyrolls} ${this.random.string(UPPER, 24)}`).toString('base64');
    return {
      name: `${this.system.name}-keypair-${this.keyrolls}`,
      'private-key': `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\n`,
    };
  }

  snapshot(): MockRackStateSnapshot {
    return structuredClone({
      system: this.system,
      apps: this.listApps(),
      builds: [...this.builds.values()].sort((a, b) => a.seq - b.seq).map((record) => record.build),
      releases: [...this.releases.values()].sort((a, b) => a.seq - b.seq).map((record) => record.release),
      services: Object.fromEntries(this.services),
      processes: sortProcesses([...this.processes.values()]),
      processRuns: this.processRuns,
      objects: [...this.objects.values()].map(({ bytes: _bytes, ...object }) => object),
      configs: [...this.configs].flatMap(([app, configs]) => [...configs].map(([name, value]) => ({ app, name, value }))),
      appResources: Object.fromEntries(this.appResources),
      rackResources: this.rackResources,
      registries: this.listRegistries(),
      instances: this.listInstances(),
    });
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `convox run` pods are named `<service>-run-<suffix>`; deployment pods carry a replica-set hash instead. */
function isOneOffProcess(process: RackProcess): boolean {
  return process.id.startsWith(`${process.service}-run-`);
}

function sortProcesses(processes: RackProcess[]): RackProcess[] {
  return processes.sort((a, b) => compare(a.service, b.service) || compare(a.id, b.id));
}

function parseBuildStatus(status: string): RackBuild['status'] {
  if (status === 'created' || status === 'running' || status === 'complete' || status === 'failed') return status;
  throw badRequest(`invalid build status: ${status}`);
}
