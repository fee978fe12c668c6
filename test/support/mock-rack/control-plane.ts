import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Fault } from './fault-injector';
import type { MockRackStateSnapshot } from './rack-state';
import type { JournalEntry } from './request-journal';

/**
 * The test-only control plane, on its own port so a gateway pointed at the rack URL can never reach it.
 *
 *   POST   /__mock/reset      state back to seed; journal and faults cleared
 *   GET    /__mock/state      state snapshot
 *   GET    /__mock/requests   request journal, oldest first      DELETE clears it
 *   POST   /__mock/fault      arm a fault (JSON body)            GET lists, DELETE clears
 */
export interface ControlPlaneActions {
  reset(): void;
  state(): MockRackStateSnapshot;
  requests(): JournalEntry[];
  clearRequests(): void;
  injectFault(fault: unknown): void;
  faults(): Fault[];
  clearFaults(): void;
}

const MAX_CONTROL_BODY_BYTES = 64 * 1024;

export class ControlPlane {
  private readonly server: Server;

  constructor(private readonly actions: ControlPlaneActions) {
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}`));
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const route = `${request.method ?? 'GET'} ${(request.url ?? '/').split('?', 1)[0]}`;
    try {
      const body = await readBody(request);
      switch (route) {
        case 'POST /__mock/reset':
          this.actions.reset();
          return sendJson(response, 200, { ok: true });
        case 'GET /__mock/state':
          return sendJson(response, 200, this.actions.state());
        case 'GET /__mock/requests':
          return sendJson(response, 200, this.actions.requests());
        case 'DELETE /__mock/requests':
          this.actions.clearRequests();
          return sendJson(response, 200, { ok: true });
        case 'POST /__mock/fault':
          this.actions.injectFault(parseJson(body));
          return sendJson(response, 201, { ok: true });
        case 'GET /__mock/fault':
          return sendJson(response, 200, this.actions.faults());
        case 'DELETE /__mock/fault':
          this.actions.clearFaults();
          return sendJson(response, 200, { ok: true });
        default:
          return sendJson(response, 404, { error: `unknown control route: ${route}` });
      }
    } catch (error) {
      sendJson(response, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_CONTROL_BODY_BYTES) chunks.push(chunk);
    });
    request.once('end', () =>
      size > MAX_CONTROL_BODY_BYTES ? reject(new Error('control body too large')) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    request.once('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('body must be JSON');
  }
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(`${JSON.stringify(value, null, 2)}\n`);
}
