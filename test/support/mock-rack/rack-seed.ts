import { RACK_EPOCH_MS } from './rack-clock';
import type {
  RackApp,
  RackBuild,
  RackInstance,
  RackProcess,
  RackRegistry,
  RackRelease,
  RackResource,
  RackService,
  RackSystem,
  StringMap,
} from './rack-structs';
import { formatGoTime } from './rack-wire';

/**
 * The state every mock rack starts from (and reset() returns to): two running apps with builds, releases,
 * services and processes, plus secrets in every place the real rack exposes them, so redaction can be tested.
 */

export const RACK_DOMAIN = 'rack.example.com';
export const RACK_VERSION = '3.24.6';
export const REGISTRY_HOST = `registry.${RACK_DOMAIN}`;

export const DEFAULT_MANIFEST = [
  'services:',
  '  web:',
  '    build: .',
  '    port: 3000',
  '    scale:',
  '      count: 2',
  '  worker:',
  '    build: .',
  '    command: npm run worker',
  '',
].join('\n');

/** Well-known ids of the seeded objects, for tests that address them directly. */
export const SEED = {
  apps: {
    myapp: {
      build: 'BMYAPPFIRST',
      releases: ['RMYAPPFIRST', 'RMYAPPSECND'],
      currentRelease: 'RMYAPPSECND',
      processes: { web: ['web-7f9c6d5b8-k2x7p', 'web-7f9c6d5b8-m4q9z'], worker: ['worker-5d4c8b7f6-t3v8w'] },
      resource: 'database',
    },
    otherapp: {
      build: 'BOTHERAPPAA',
      releases: ['ROTHERAPPAA'],
      currentRelease: 'ROTHERAPPAA',
      processes: { web: ['web-6c8d7b9f4-b5n2r'], worker: ['worker-8b6f5d9c7-h7j4l'] },
      resource: 'cache',
    },
  },
  instances: ['ip-10-0-1-10.ec2.internal', 'ip-10-0-2-20.ec2.internal', 'ip-10-0-3-30.ec2.internal'],
  registry: 'registry.example.com',
} as const;

/** Seeded environments: sorted, newline-joined KEY=VALUE, as the rack stores them. */
export const SEED_ENV = {
  myappFirst: [
    'DATABASE_URL=postgres://myapp:db-pa55w0rd@db.internal:5432/myapp?sslmode=require&pool=5',
    'NODE_ENV=production',
    'SECRET_KEY=sk_live_mock_4f9a2c7e1b3d',
  ].join('\n'),
  myappSecond: [
    'DATABASE_URL=postgres://myapp:db-pa55w0rd@db.internal:5432/myapp?sslmode=require&pool=5',
    'NODE_ENV=production',
    'REDIS_URL=redis://:redis-s3cret@cache.internal:6379/0',
    'SECRET_KEY=sk_live_mock_4f9a2c7e1b3d',
  ].join('\n'),
  otherapp: ['API_TOKEN=tok_mock_otherapp_91b2e7', 'PORT=3000'].join('\n'),
} as const;

export interface RackSeed {
  system: RackSystem;
  apps: RackApp[];
  builds: Array<{ build: RackBuild; logLines: string[] }>;
  releases: RackRelease[];
  services: Array<{ app: string; services: RackService[] }>;
  processes: RackProcess[];
  systemProcesses: RackProcess[];
  systemReleases: RackRelease[];
  configs: Array<{ app: string; name: string; value: string }>;
  appResources: Array<{ app: string; resource: RackResource }>;
  rackResources: RackResource[];
  registries: RackRegistry[];
  instances: RackInstance[];
}

const at = (offsetMs: number): string => formatGoTime(new Date(RACK_EPOCH_MS + offsetMs));
const HOUR = 3_600_000;

export function appParameters(name: string): StringMap {
  // WebhookSecret stands in for the credentials real app parameters can carry.
  return { BuildCpu: '256', BuildMem: '1024', Isolate: 'false', WebhookSecret: `whsec_mock_${name}_5f2b9c1e8a` };
}

export function buildLogLines(app: string, buildId: string): string[] {
  return [
    `Authenticating ${REGISTRY_HOST}: Login Succeeded\n`,
    'Building: .\n',
    'Step 1/4 : FROM node:20-alpine\n',
    'Step 2/4 : COPY . /app\n',
    'Step 3/4 : RUN npm ci --omit=dev\n',
    'Step 4/4 : CMD ["npm", "start"]\n',
    `Successfully tagged ${REGISTRY_HOST}/${app}:web.${buildId}\n`,
    `Running: docker push ${REGISTRY_HOST}/${app}:web.${buildId}\n`,
  ];
}

function seedBuild(app: string, id: string, description: string, gitSha: string, startedOffset: number): RackBuild {
  return {
    id,
    app,
    description,
    entrypoint: '',
    'git-sha': gitSha,
    logs: `object://${app}/build/${id}/logs`,
    manifest: DEFAULT_MANIFEST,
    process: '',
    release: '',
    reason: '',
    repository: '',
    status: 'complete',
    started: at(startedOffset),
    ended: at(startedOffset + 95_000),
  };
}

function seedRelease(app: string, id: string, build: string, env: string, description: string, createdOffset: number): RackRelease {
  return { id, app, build, env, manifest: DEFAULT_MANIFEST, description, created: at(createdOffset) };
}

export function webService(app: string, count: number): RackService {
  return {
    count,
    cpu: 256,
    domain: `web.${app}.${RACK_DOMAIN}`,
    gpu: 0,
    'gpu-vendor': '',
    memory: 512,
    name: 'web',
    nlb: null,
    ports: [{ balancer: 443, certificate: '', container: 3000 }],
    min: 1,
    max: 4,
    'scale-override-active': false,
    'triggers-override-active': false,
  };
}

export function workerService(count: number): RackService {
  return {
    count,
    cpu: 128,
    domain: '',
    gpu: 0,
    'gpu-vendor': '',
    memory: 256,
    name: 'worker',
    nlb: null,
    ports: [],
    min: 1,
    max: 1,
    'scale-override-active': false,
    'triggers-override-active': false,
  };
}

export function serviceCommand(service: string): string {
  if (service === 'web') return 'npm start';
  if (service === 'worker') return 'npm run worker';
  return '';
}

export interface ProcessSpec {
  id: string;
  app: string;
  service: string;
  release: string;
  build: string;
  instanceIndex: number;
  startedOffset: number;
  command?: string;
}

export function rackProcess(spec: ProcessSpec, started: string | null = null): RackProcess {
  const instance = SEED.instances[spec.instanceIndex % SEED.instances.length];
  const hash = [...spec.id].reduce((sum, char) => (sum * 31 + char.charCodeAt(0)) >>> 0, 7);
  return {
    id: spec.id,
    app: spec.app,
    command: spec.command ?? serviceCommand(spec.service),
    cpu: 0,
    gpu: 0,
    host: `10.244.${hash % 250}.${(hash >>> 8) % 250}`,
    image: `${REGISTRY_HOST}/${spec.app}:${spec.service}.${spec.build}`,
    instance,
    memory: 0,
    name: spec.service,
    ports: spec.service === 'web' ? ['3000'] : null,
    release: spec.release,
    started: started ?? at(spec.startedOffset),
    status: 'running',
    service: spec.service,
  };
}

export function createSeed(): RackSeed {
  const { myapp, otherapp } = SEED.apps;
  const processes: RackProcess[] = [];
  let instanceIndex = 0;
  for (const [app, seed] of [
    ['myapp', myapp],
    ['otherapp', otherapp],
  ] as const) {
    for (const [service, ids] of Object.entries(seed.processes)) {
      for (const id of ids) {
        processes.push(
          rackProcess({
            id,
            app,
            service,
            release: seed.currentRelease,
            build: seed.build,
            instanceIndex: instanceIndex++,
            startedOffset: -HOUR / 2,
          }),
        );
      }
    }
  }

  return {
    system: {
      count: 3,
      domain: RACK_DOMAIN,
      name: 'mock-rack',
      provider: 'aws',
      'rack-domain': RACK_DOMAIN,
      'router-internal': `router-internal.${RACK_DOMAIN}`,
      region: 'us-east-1',
      status: 'running',
      type: 't3.medium',
      version: RACK_VERSION,
    },
    apps: [
      {
        generation: '2',
        locked: false,
        name: 'myapp',
        release: myapp.currentRelease,
        router: `router.${RACK_DOMAIN}`,
        status: 'running',
        parameters: appParameters('myapp'),
      },
      {
        generation: '2',
        locked: false,
        name: 'otherapp',
        release: otherapp.currentRelease,
        router: `router.${RACK_DOMAIN}`,
        status: 'running',
        parameters: appParameters('otherapp'),
      },
    ],
    builds: [
      {
        build: {
          ...seedBuild('myapp', myapp.build, 'initial deploy', '4f2a9c1d7e3b5a6c8d9e0f1a2b3c4d5e6f7a8b9c', -3 * HOUR),
          release: myapp.releases[0],
        },
        logLines: buildLogLines('myapp', myapp.build),
      },
      {
        build: {
          ...seedBuild('otherapp', otherapp.build, 'initial deploy', '9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b', -3 * HOUR),
          release: otherapp.releases[0],
        },
        logLines: buildLogLines('otherapp', otherapp.build),
      },
    ],
    releases: [
      seedRelease('myapp', myapp.releases[0], myapp.build, SEED_ENV.myappFirst, 'initial deploy', -3 * HOUR + 95_000),
      seedRelease('myapp', myapp.releases[1], myapp.build, SEED_ENV.myappSecond, 'env add:REDIS_URL', -HOUR),
      seedRelease('otherapp', otherapp.releases[0], otherapp.build, SEED_ENV.otherapp, 'initial deploy', -3 * HOUR + 95_000),
    ],
    services: [
      { app: 'myapp', services: [webService('myapp', 2), workerService(1)] },
      { app: 'otherapp', services: [webService('otherapp', 1), workerService(1)] },
    ],
    processes,
    systemProcesses: [
      {
        ...rackProcess({
          id: 'api-5c9d8f7b6-q2w3e',
          app: 'system',
          service: 'api',
          release: RACK_VERSION,
          build: '',
          instanceIndex: 0,
          startedOffset: -24 * HOUR,
        }),
        command: 'api',
        image: `convox/convox:${RACK_VERSION}`,
      },
      {
        ...rackProcess({
          id: 'atom-6d8c7b9f5-r4t5y',
          app: 'system',
          service: 'atom',
          release: RACK_VERSION,
          build: '',
          instanceIndex: 1,
          startedOffset: -24 * HOUR,
        }),
        command: 'atom',
        image: `convox/convox:${RACK_VERSION}`,
      },
      {
        ...rackProcess({
          id: 'router-7b6c5d8f9-u6i7o',
          app: 'system',
          service: 'router',
          release: RACK_VERSION,
          build: '',
          instanceIndex: 2,
          startedOffset: -24 * HOUR,
        }),
        command: 'router',
        image: `convox/convox:${RACK_VERSION}`,
      },
    ],
    systemReleases: [
      { id: RACK_VERSION, app: 'system', build: '', env: '', manifest: '', description: '', created: at(-24 * HOUR) },
      { id: '3.24.5', app: 'system', build: '', env: '', manifest: '', description: '', created: at(-30 * 24 * HOUR) },
    ],
    // The CLI reads cli-env-mask (base64 comma list) to mask keys locally.
    configs: [{ app: 'myapp', name: 'cli-env-mask', value: Buffer.from('SECRET_KEY').toString('base64') }],
    appResources: [
      { app: 'myapp', resource: { name: myapp.resource, status: 'running', type: 'postgres', url: 'postgres://user:s3cret@host/db' } },
      {
        app: 'otherapp',
        resource: {
          name: otherapp.resource,
          status: 'running',
          type: 'redis',
          url: 'redis://:cache-s3cret@otherapp-cache.internal:6379/0',
        },
      },
    ],
    rackResources: [
      {
        name: 'shared-db',
        parameters: { Class: 'db.t3.micro', Password: 'shared-db-s3cret' },
        status: 'running',
        type: 'postgres',
        url: 'postgres://admin:shared-db-s3cret@shared-db.rack.internal:5432/app',
      },
    ],
    registries: [{ server: SEED.registry, username: 'deploy', password: 'registry-s3cret-password' }],
    instances: SEED.instances.map((id, index) => ({
      agent: true,
      cpu: 0.35 + index / 10,
      'cpu-capacity': 2,
      'cpu-allocatable': 1.93,
      'gpu-capacity': 0,
      'gpu-allocatable': 0,
      id,
      memory: 0.42 + index / 10,
      'memory-capacity': 3912,
      'memory-allocatable': 3380,
      'private-ip': id
        .replace(/^ip-/, '')
        .replace(/\.ec2\.internal$/, '')
        .replace(/-/g, '.'),
      processes: 2 + index,
      'public-ip': '',
      status: 'running',
      started: at(-48 * HOUR),
    })),
  };
}
