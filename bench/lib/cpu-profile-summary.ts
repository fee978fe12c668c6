import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

/** The parts of V8's `.cpuprofile` JSON this summary reads. */
interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Frame {
  readonly parent: number | undefined;
  readonly functionKey: string;
  readonly origin: string;
}

const REPOSITORY = resolve(__dirname, '../..');
/** The bench runs a compiled copy (see compileForBench); its files are named as the repository's. */
const COMPILED_FOR_BENCH = new RegExp(`^(file://)?${escapeRegExp(tmpdir())}/rgw-bench-[^/]+/`);
/** Frames that stand for the VM itself rather than code. */
const PSEUDO_FRAMES = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/**
 * Where the CPU went: self time by origin (an npm package, a file of ours, Node's internals, GC),
 * inclusive time by origin (an origin counts once per sample however deep it recurses), the hottest
 * functions by self time, and our own functions by inclusive time.
 */
export function summariseCpuProfile(path: string, top = 20): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const frames = indexFrames(profile.nodes);

  const selfByOrigin = new Map<string, number>();
  const inclusiveByOrigin = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const chargedByOrigin = new Map<string, number>();
  const chargedByFunction = new Map<string, number>();
  const inclusiveOfOurs = new Map<string, number>();
  let total = 0;
  let busy = 0;

  profile.samples.forEach((nodeId, index) => {
    const micros = Math.max(0, profile.timeDeltas[index] ?? 0);
    const leaf = frames.get(nodeId);
    if (!leaf) return;
    total += micros;
    if (leaf.origin !== '(idle)') busy += micros;
    add(selfByOrigin, leaf.origin, micros);
    add(selfByFunction, leaf.functionKey, micros);
    const payer = nearestCodeFrame(leaf, frames);
    add(chargedByOrigin, payer.origin, micros);
    add(chargedByFunction, payer.functionKey, micros);
    const origins = new Set<string>();
    const ours = new Set<string>();
    for (let frame: Frame | undefined = leaf; frame; frame = frame.parent === undefined ? undefined : frames.get(frame.parent)) {
      origins.add(frame.origin);
      if (frame.origin.startsWith('src/')) ours.add(frame.functionKey);
    }
    for (const origin of origins) add(inclusiveByOrigin, origin, micros);
    for (const key of ours) add(inclusiveOfOurs, key, micros);
  });

  const percent = (micros: number) => `${((100 * micros) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const table = (title: string, values: Map<string, number>, limit: number) => [
    title,
    ...[...values]
      .filter(([key]) => key !== '(idle)' && key !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([key, micros]) => `  ${percent(micros)}  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`),
  ];
  return [
    `CPU profile ${path}`,
    `  ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)`,
    ...table('Self time by origin:', selfByOrigin, top),
    ...table(
      'Self time charged to the nearest package or file of ours up the stack (Node and native code to their caller):',
      chargedByOrigin,
      top,
    ),
    ...table('Inclusive time by origin (on the stack at all; hook chains inflate this):', inclusiveByOrigin, top),
    ...table('Hottest functions (self time):', selfByFunction, top),
    ...table('Functions charged with Node and native time below them:', chargedByFunction, top),
    ...table('Our code (src/), inclusive time:', inclusiveOfOurs, top),
  ].join('\n');
}

/** The first frame, from the leaf up, that is neither Node's own JavaScript nor native code. */
function nearestCodeFrame(leaf: Frame, frames: ReadonlyMap<number, Frame>): Frame {
  for (let frame: Frame | undefined = leaf; frame; frame = frame.parent === undefined ? undefined : frames.get(frame.parent)) {
    if (frame.origin !== '(native)' && !frame.origin.startsWith('node:')) return frame;
  }
  return leaf;
}

function indexFrames(nodes: readonly CpuProfileNode[]): Map<number, Frame> {
  const parents = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const frames = new Map<number, Frame>();
  for (const node of nodes) {
    const { functionName, lineNumber } = node.callFrame;
    const url = node.callFrame.url.replace(COMPILED_FOR_BENCH, `$1${REPOSITORY}/`);
    const origin = originOf(functionName, url);
    const place = url ? ` ${shortUrl(url)}:${lineNumber + 1}` : '';
    frames.set(node.id, { parent: parents.get(node.id), functionKey: `${functionName || '(anonymous)'}${place}`, origin });
  }
  return frames;
}

function originOf(functionName: string, url: string): string {
  if (PSEUDO_FRAMES.has(functionName)) return functionName;
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope, name] = path.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  return shortUrl(url);
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith(`${REPOSITORY}/`) ? path.slice(REPOSITORY.length + 1) : path;
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
