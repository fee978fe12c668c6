import { Injectable } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RackConnection } from './rack-connection';

export interface RackAnswer {
  readonly status: number;
  readonly body: string;
}

/** Answers the gateway reads itself (not on the client's behalf) are small; anything bigger is refused. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** The gateway's own calls to the rack, e.g. reading the release an env change is based on. */
@Injectable()
export class RackClient {
  constructor(private readonly rack: RackConnection) {}

  /** `timeoutMs`: silence after which the call fails, for callers nobody waits on (none by default, as before). */
  get(path: string, actor: string, timeoutMs?: number): Promise<RackAnswer> {
    const url = new URL(`${this.rack.target.pathname.replace(/\/+$/, '')}${path}`, this.rack.target.origin);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = send(
        url,
        { agent: this.rack.agent, headers: { authorization: this.rack.authorization, 'convox-actor': actor, accept: 'application/json' } },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) response.destroy(new Error('rack answer too large'));
            else chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      if (timeoutMs !== undefined) {
        outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new Error(`no answer from the rack within ${timeoutMs} ms`)));
      }
      outgoing.on('error', reject);
      outgoing.end();
    });
  }
}
