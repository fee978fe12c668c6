import { DataSource } from 'typeorm';
import { AuditCheckpoints } from '../../src/audit/audit-checkpoints';
import { AuditVerifier } from '../../src/audit/audit-verifier.service';
import { CheckpointReceiver } from '../support/checkpoint-receiver';
import { rackAndGateway } from '../support/gateway-fixture';
import { basicAuth } from '../support/test-gateway';
import { eventually } from '../support/webhook-receiver';

const TOKEN = 'checkpoint-receiver-token-7c1e0d';

/** Checkpoints POSTed to AUDIT_CHECKPOINT_URL, and the verifier reading the newest back with GET. */
describe('the audit chain against checkpoints kept by an HTTP receiver', () => {
  const receiver = new CheckpointReceiver(TOKEN);
  const fixture = rackAndGateway(async () => {
    await receiver.listen();
    return {
      env: {
        AUDIT_AGGREGATE_READS_SECONDS: '0',
        AUDIT_CHECKPOINT_URL: receiver.url,
        AUDIT_CHECKPOINT_TOKEN: TOKEN,
        AUDIT_CHECKPOINT_SECONDS: '1',
      },
    };
  });
  let token: string;

  afterAll(() => receiver.close());

  const database = () => fixture.gateway.app.get(DataSource);
  const verify = () => fixture.gateway.app.get(AuditVerifier).verify();
  const head = async () => Number((await database().query<Array<{ seq: string }>>(`SELECT seq FROM audit_chain_head`))[0].seq);
  /** A few reads, and the chain head once their events are written. */
  const someEvents = async (count: number) => {
    const before = await head();
    for (let request = 0; request < count; request += 1) {
      await fetch(`${fixture.gateway.url}/apps?n=${request}`, { headers: { authorization: basicAuth(token) } });
    }
    await eventually(async () => (await head()) >= before + count, 5_000);
    return head();
  };

  beforeAll(async () => {
    ({ token } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer'));
  });

  it('POSTs the chain head every interval, with the token as a Bearer credential', async () => {
    const newest = await someEvents(3);
    await eventually(() => (receiver.newest()?.seq ?? 0) >= newest, 5_000);
    const [stored] = await database().query<Array<{ hash: Buffer }>>(`SELECT hash FROM audit_events WHERE seq = $1`, [newest]);
    expect(receiver.checkpoints.find((checkpoint) => checkpoint.seq === newest)).toEqual({
      seq: newest,
      hash: stored.hash.toString('hex'),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(receiver.requests.every((request) => request.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(await verify()).toMatchObject({ intact: true });
  });

  it('logs a receiver that fails, without its path or the token, and sends the checkpoint again once it is back', async () => {
    receiver.failWith = 503;
    const newest = await someEvents(1);
    await fixture.gateway.app.get(AuditCheckpoints).write();
    const logs = fixture.gateway.logs.text();
    expect(logs).toContain(
      `checkpoint of event ${newest} to ${new URL(receiver.url).origin} failed, retrying next interval: the receiver answered 503`,
    );
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain('/checkpoints/rack-gateway');
    receiver.failWith = undefined;
    // The head has not moved since; the checkpoint that failed is sent again all the same.
    await eventually(() => receiver.newest()?.seq === newest, 5_000);
  });

  it('shows the newest events removed, with the head set back to match, through the checkpoint it reads back', async () => {
    const newest = await someEvents(2);
    await fixture.gateway.app.get(AuditCheckpoints).write();
    expect(receiver.newest()?.seq).toBe(newest);
    expect(await verify()).toMatchObject({ intact: true });

    // Someone with the database removes the newest event and sets the head back: the chain alone holds.
    const [previous] = await database().query<Array<{ hash: Buffer }>>(`SELECT hash FROM audit_events WHERE seq = $1`, [newest - 1]);
    await database().query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
    try {
      await database().query(`DELETE FROM audit_events WHERE seq = $1`, [newest]);
    } finally {
      await database().query(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
    }
    await database().query(`UPDATE audit_chain_head SET seq = $1, hash = $2`, [newest - 1, previous.hash]);

    expect(await verify()).toMatchObject({
      intact: false,
      brokenAt: newest,
      problem: expect.stringMatching(`^the chain ends at event ${newest - 1}, but a checkpoint of .* saw ${newest}$`),
    });
  });

  it('cannot call the chain intact while the receiver cannot be read', async () => {
    receiver.failWith = 500;
    try {
      await expect(verify()).rejects.toThrow(
        `the newest audit checkpoint could not be read from ${new URL(receiver.url).origin} (the receiver answered 500)`,
      );
    } finally {
      receiver.failWith = undefined;
    }
  });
});
