import type { StringMap } from './rack-structs';

/**
 * The tiny "shell" behind exec and instance shell. Commands are scripted so tests can drive every part of
 * the protocol: output, stdin echo, exit codes, non-UTF-8 bytes, long-running sessions and bulk throughput.
 *
 *   echo X     → `X\n`               cat        → echo stdin until the client's EOF frame
 *   exit N     → exit code N         binary     → bytes ff fe 00 80 (invalid UTF-8)
 *   sleep S    → wait S seconds      stream N   → N bytes (k/m/g suffixes) in 64 KiB frames
 *   env        → the process env     true/false → exit 0/1
 *
 * Steps chain with `;` or `&&`; anything else prints `sh: 1: X: not found` and exits 127.
 */

export interface ExecSession {
  write(data: Buffer | string): Promise<void>;
  /** The next stdin chunk, or null at EOF. */
  read(): Promise<Buffer | null>;
  /** False when the session ended before the time was up. */
  sleep(ms: number): Promise<boolean>;
  isOpen(): boolean;
  environment: StringMap;
}

export const INVALID_UTF8_BYTES = Buffer.from([0xff, 0xfe, 0x00, 0x80]);

export const STREAM_FRAME_BYTES = 64 * 1024;

const STREAM_PATTERN = Buffer.alloc(STREAM_FRAME_BYTES, 'mock-rack exec stream 0123456789abcdefghijklmnopqrstuvwxyz\n');

interface StepResult {
  code: number;
  /** `exit` ends the whole script. */
  exited: boolean;
}

export async function runExecScript(command: string, session: ExecSession): Promise<number> {
  const parts = command.split(/(&&|;)/);
  let code = 0;
  for (let index = 0; index < parts.length; index += 2) {
    // As in sh, a failed step skips what `&&` chains to it; the next `;` starts afresh.
    if (index > 0 && parts[index - 1] === '&&' && code !== 0) continue;
    const step = parts[index].trim();
    if (step === '') continue;
    const result = await runStep(step, session);
    code = result.code;
    if (result.exited || !session.isOpen()) break;
  }
  return code;
}

async function runStep(step: string, session: ExecSession): Promise<StepResult> {
  const [name, ...args] = step.split(/\s+/);
  const rest = step.slice(name.length).trim();
  switch (name) {
    case 'echo':
      await session.write(`${unquote(rest)}\n`);
      return { code: 0, exited: false };
    case 'cat':
      for (let chunk = await session.read(); chunk; chunk = await session.read()) await session.write(chunk);
      return { code: 0, exited: false };
    case 'exit':
      return { code: args[0] === undefined ? 0 : Number.parseInt(args[0], 10) & 0xff, exited: true };
    case 'binary':
      await session.write(INVALID_UTF8_BYTES);
      return { code: 0, exited: false };
    case 'sleep': {
      const completed = await session.sleep(Number.parseFloat(args[0] ?? '0') * 1000);
      return { code: completed ? 0 : 130, exited: !completed };
    }
    case 'stream':
      await streamBytes(parseByteCount(args[0] ?? '0'), session);
      return { code: 0, exited: false };
    case 'env':
      await session.write(
        Object.entries(session.environment)
          .map(([key, value]) => `${key}=${value}\n`)
          .join(''),
      );
      return { code: 0, exited: false };
    case 'true':
      return { code: 0, exited: false };
    case 'false':
      return { code: 1, exited: false };
    default:
      await session.write(`sh: 1: ${name}: not found\n`);
      return { code: 127, exited: false };
  }
}

async function streamBytes(total: number, session: ExecSession): Promise<void> {
  for (let sent = 0; sent < total && session.isOpen(); sent += STREAM_FRAME_BYTES) {
    await session.write(STREAM_PATTERN.subarray(0, Math.min(STREAM_FRAME_BYTES, total - sent)));
  }
}

function parseByteCount(text: string): number {
  const match = /^(\d+)([kmg]?)i?b?$/i.exec(text);
  if (!match) return 0;
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()] ?? 1;
  return Number.parseInt(match[1], 10) * scale;
}

function unquote(text: string): string {
  const quoted = /^(['"])(.*)\1$/s.exec(text);
  return quoted ? quoted[2] : text;
}
