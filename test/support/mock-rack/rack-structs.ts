/**
 * Wire shapes of the convox `pkg/structs` types the mock serves.
 *
 * Go's encoding/json emits struct fields in declaration order, so every factory in this mock builds these
 * literals in that order; map-valued fields go through `goMap` because Go sorts map keys.
 */
export type StringMap = Record<string, string>;

export type AppStatus = 'creating' | 'running' | 'updating';
export type BuildStatus = 'created' | 'running' | 'complete' | 'failed';
export type ProcessStatus = 'pending' | 'starting' | 'running' | 'unhealthy' | 'crashed' | 'complete' | 'failed' | 'unknown';

export interface RackApp {
  generation: string;
  locked: boolean;
  name: string;
  release: string;
  router: string;
  status: AppStatus;
  parameters: StringMap;
}

export interface RackAppConfig {
  name: string;
  value: string;
}

export interface RackBuild {
  id: string;
  app: string;
  description: string;
  entrypoint: string;
  'git-sha': string;
  logs: string;
  manifest: string;
  process: string;
  release: string;
  reason: string;
  repository: string;
  status: BuildStatus;
  started: string;
  ended: string;
}

export interface RackRelease {
  id: string;
  app: string;
  build: string;
  env: string;
  manifest: string;
  description: string;
  created: string;
}

export interface RackProcess {
  id: string;
  app: string;
  command: string;
  cpu: number;
  gpu: number;
  host: string;
  image: string;
  instance: string;
  memory: number;
  name: string;
  /** A nil Go slice: `null` for services without ports, exactly as the k8s provider renders it. */
  ports: string[] | null;
  release: string;
  started: string;
  status: ProcessStatus;
  service: string;
}

export interface RackServicePort {
  balancer: number;
  certificate: string;
  container: number;
}

export interface RackService {
  count: number;
  cpu: number;
  domain: string;
  gpu: number;
  'gpu-vendor': string;
  memory: number;
  name: string;
  nlb: null;
  ports: RackServicePort[];
  min: number;
  max: number;
  'scale-override-active': boolean;
  'triggers-override-active': boolean;
}

export interface RackSystem {
  count: number;
  domain: string;
  name: string;
  provider: string;
  'rack-domain': string;
  'router-internal': string;
  region: string;
  status: string;
  type: string;
  version: string;
}

export interface RackInstance {
  agent: boolean;
  cpu: number;
  'cpu-capacity': number;
  'cpu-allocatable': number;
  'gpu-capacity': number;
  'gpu-allocatable': number;
  id: string;
  memory: number;
  'memory-capacity': number;
  'memory-allocatable': number;
  'private-ip': string;
  processes: number;
  'public-ip': string;
  status: string;
  started: string;
}

export interface RackKeyPair {
  name: string;
  'private-key': string;
}

export interface RackResource {
  name: string;
  parameters?: StringMap;
  status?: string;
  type: string;
  url: string;
}

export interface RackRegistry {
  server: string;
  username: string;
  password: string;
}

/** `structs.Object` has no json tags, hence the capitalised field. */
export interface RackObjectUrl {
  Url: string;
}

/** Go renders map keys sorted; JS objects keep insertion order, so every map is rebuilt through this. */
export function goMap(values: StringMap): StringMap {
  // fromEntries defines own properties, so even a `__proto__` key from a client stays plain data.
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
