import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnreachable } from './database-unavailable';

/** A pg error as the server sends it: a message and its SQLSTATE. */
function serverError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isDatabaseUnreachable', () => {
  it('is true of a connection nothing listens for, as pg reports it', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const refused = await new Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2_000 })
      .connect()
      .catch((error: Error) => error);
    expect(isDatabaseUnreachable(refused)).toBe(true);
  });

  it.each([
    [
      'a server shutting down',
      new QueryFailedError('SELECT 1', [], serverError('terminating connection due to administrator command', '57P01')),
    ],
    ['a server still starting', serverError('the database system is starting up', '57P03')],
    ['a connection exception', serverError('connection failure', '08006')],
    ['a connection cut under a query', new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly'))],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
  ])('is true of %s', (_, error) => {
    expect(isDatabaseUnreachable(error)).toBe(true);
  });

  it.each([
    ['a wrong query', new QueryFailedError('SELEC 1', [], serverError('syntax error at or near "SELEC"', '42601'))],
    [
      'a protocol violation in what was sent',
      serverError('bind message supplies 2 parameters, but prepared statement requires 1', '08P01'),
    ],
    ['a broken constraint', new QueryFailedError('INSERT', [], serverError('duplicate key value violates unique constraint', '23505'))],
    ['an error of the gateway’s own', new TypeError('cannot read properties of undefined')],
    ['something that is not an error', 'ECONNREFUSED'],
  ])('is false of %s', (_, error) => {
    expect(isDatabaseUnreachable(error)).toBe(false);
  });
});
