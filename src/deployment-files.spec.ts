import { PATH_METADATA } from '@nestjs/common/constants';
import { getMetadataStorage } from 'class-validator';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { EnvironmentVariables, InvalidConfigurationError } from './config/environment-variables';
import { loadGatewayConfig } from './config/gateway-config';
import { HealthController } from './health/health.controller';

const ROOT = resolve(__dirname, '..');
const DEFAULT_PORT = new EnvironmentVariables().PORT;
const read = (file: string) => readFileSync(resolve(ROOT, file), 'utf8');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments and blank lines left out. */
function dockerfile(): Instruction[] {
  return read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of each stage, by stage name (the last, unnamed one is `runtime`). */
function stages(): Map<string, Instruction[]> {
  const byStage = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const instruction of dockerfile()) {
    if (instruction.keyword === 'FROM') {
      current = [];
      byStage.set(/\sAS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? 'runtime', current);
    }
    current.push(instruction);
  }
  return byStage;
}

/** `COPY [--from=stage] source... destination`. */
function copies(instructions: readonly Instruction[]): Array<{ from?: string; sources: string[] }> {
  return instructions
    .filter(({ keyword }) => keyword === 'COPY')
    .map(({ args }) => {
      const words = args.split(/\s+/);
      const from = words[0].startsWith('--from=') ? words.shift()?.slice('--from='.length) : undefined;
      return { from, sources: words.slice(0, -1) };
    });
}

/** An exec-form instruction (`["node", "..."]`) as its arguments. */
const execForm = (args: string) => JSON.parse(args.replace(/^CMD\s+/, '')) as string[];

interface ConvoxService {
  readonly build: string;
  readonly domain?: string;
  readonly port: number;
  readonly health: { readonly path: string };
  readonly resources: readonly string[];
  readonly environment: readonly string[];
  readonly scale: { readonly count: number };
}

function convoxManifest(): { resources: Record<string, { type: string }>; services: { gateway: ConvoxService } } {
  return parse(read('convox.yml')) as { resources: Record<string, { type: string }>; services: { gateway: ConvoxService } };
}

/** The readiness route, as the health controller declares it. */
function readinessPath(): string {
  const base = String(Reflect.getMetadata(PATH_METADATA, HealthController));
  // eslint-disable-next-line @typescript-eslint/unbound-method -- read for its metadata only
  const route = String(Reflect.getMetadata(PATH_METADATA, HealthController.prototype.checkReadiness));
  return `/${base}/${route}`;
}

/** Every variable the gateway reads (each has at least one validation rule). */
function gatewayVariables(): Set<string> {
  return new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
      .map((rule) => rule.propertyName),
  );
}

/** What a production start refuses to go without. */
function requiredInProduction(): string[] {
  try {
    loadGatewayConfig({ NODE_ENV: 'production' });
  } catch (error) {
    if (error instanceof InvalidConfigurationError) return error.problems.map((problem) => problem.split(':')[0]);
    throw error;
  }
  return [];
}

describe('the Dockerfile', () => {
  const runtime = stages().get('runtime') ?? [];
  const last = (keyword: string) => runtime.filter((instruction) => instruction.keyword === keyword).at(-1);

  it('copies only what exists: files of the repository the build context keeps, or what an earlier stage made', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    const buildScriptOutput = /-d (\S+)/.exec((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.build)?.[1];
    for (const [name, instructions] of stages()) {
      for (const { from, sources } of copies(instructions)) {
        for (const source of sources) {
          if (!from) {
            expect({ source, exists: existsSync(resolve(ROOT, source)) }).toEqual({ source, exists: true });
            expect({ source, ignoredBy: ignored.filter((pattern) => source === pattern || source.startsWith(`${pattern}/`)) }).toEqual({
              source,
              ignoredBy: [],
            });
            continue;
          }
          // A build stage's path: under its WORKDIR, and copied in there, installed (node_modules) or built.
          const stage = stages().get(from) ?? [];
          const workdir = stage.filter(({ keyword }) => keyword === 'WORKDIR').at(-1)?.args;
          const made = [...copies(stage).flatMap((copy) => copy.sources), 'node_modules', buildScriptOutput];
          expect({ stage: name, source, made: made.map((path) => `${workdir}/${path}`).includes(source) }).toEqual({
            stage: name,
            source,
            made: true,
          });
        }
      }
    }
  });

  it('starts the gateway the way `npm start` does', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
    expect(execForm(last('CMD')?.args ?? '[]').join(' ')).toBe(start);
  });

  it('runs as an unprivileged user', () => {
    const user = last('USER')?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
  });

  it('installs production dependencies only', () => {
    const build = stages().get('build') ?? [];
    expect(build.some(({ keyword, args }) => keyword === 'RUN' && /npm prune --omit=dev/.test(args))).toBe(true);
    expect(runtime.filter(({ keyword, args }) => keyword === 'RUN' && /npm (ci|install)/.test(args))).toEqual([]);
  });

  it('listens on the default port and exposes it', () => {
    expect(runtime.filter(({ keyword }) => keyword === 'ENV').flatMap(({ args }) => args.split(/\s+/))).toContain(`PORT=${DEFAULT_PORT}`);
    expect(last('EXPOSE')?.args).toBe(String(DEFAULT_PORT));
  });

  it('checks readiness with node (the slim image has no curl), on the port the gateway listens on, over HTTPS with TLS', () => {
    const check = last('HEALTHCHECK')?.args ?? '';
    const [command, ...args] = execForm(check.slice(check.indexOf('CMD ')));
    expect(command).toBe('node');
    const script = args.join(' ');
    expect(script).toContain(`://127.0.0.1:\${process.env.PORT}${readinessPath()}\``);
    expect(script).toContain("`${tls ? 'https' : 'http'}://");
    expect(script).toContain('Boolean(process.env.TLS_CERT_FILE)');
  });
});

describe('convox.yml', () => {
  const { resources, services } = convoxManifest();
  const gateway = services.gateway;
  const listed = gateway.environment.map((entry) => {
    const [name, ...value] = entry.split('=');
    return { name, hasDefault: value.length > 0 };
  });

  it('serves the gateway on its port, at a domain from the environment, behind the readiness check', () => {
    expect(gateway.port).toBe(DEFAULT_PORT);
    expect(gateway.health.path).toBe(readinessPath());
    const domainVariable = /^\$\{(\w+)\}$/.exec(gateway.domain ?? '')?.[1];
    expect(domainVariable).toBeDefined();
    expect(listed).toContainEqual({ name: domainVariable, hasDefault: false });
  });

  it('runs at least two instances', () => {
    expect(gateway.scale.count).toBeGreaterThanOrEqual(2);
  });

  it('gives the gateway its Postgres through DATABASE_URL, and any other resource through a variable it reads', () => {
    // Convox names each resource's URL after it: `database` becomes DATABASE_URL.
    const urlOf = (name: string) => `${name.toUpperCase()}_URL`;
    expect(gateway.resources.filter((name) => resources[name]?.type === 'postgres').map(urlOf)).toEqual(['DATABASE_URL']);
    expect(gateway.resources.map(urlOf).filter((variable) => !gatewayVariables().has(variable))).toEqual([]);
  });

  it('asks for every variable a production start needs, without a default', () => {
    const required = requiredInProduction();
    expect(required).toEqual(expect.arrayContaining(['RACK_HOST', 'RACK_TOKEN', 'APP_SECRET_KEY']));
    for (const name of required) expect(listed).toContainEqual({ name, hasDefault: false });
  });

  it('lists only variables the gateway reads (and the domain)', () => {
    const known = gatewayVariables();
    const domainVariable = /^\$\{(\w+)\}$/.exec(gateway.domain ?? '')?.[1];
    expect(listed.map(({ name }) => name).filter((name) => !known.has(name) && name !== domainVariable)).toEqual([]);
  });
});
