import { reconcileEnv } from './env-reconciliation';
import { MASK } from './secret-values';

const base = 'API_KEY=real-key\nDATABASE_URL=postgres://u:p@db/x\nPORT=3000';

describe('reconcileEnv', () => {
  it('restores masked values from the base release and reports only real changes', () => {
    const result = reconcileEnv(`API_KEY=${MASK}\nDATABASE_URL=${MASK}\nPORT=4000\nNEW=1`, base, new Set());
    expect(result).toEqual({
      ok: true,
      env: 'API_KEY=real-key\nDATABASE_URL=postgres://u:p@db/x\nNEW=1\nPORT=4000',
      changes: { added: ['NEW'], changed: ['PORT'], removed: [] },
    });
  });

  it('counts removed keys as changes', () => {
    expect(reconcileEnv('PORT=3000', base, new Set())).toMatchObject({
      ok: true,
      changes: { added: [], changed: [], removed: ['API_KEY', 'DATABASE_URL'] },
    });
  });

  it('refuses the placeholder for a key the base release does not have', () => {
    expect(reconcileEnv(`${base}\nNEW=${MASK}`, base, new Set())).toMatchObject({ ok: false, status: 400 });
  });

  it('refuses any change to a protected key, but not re-posting it masked', () => {
    expect(reconcileEnv(base.replace('real-key', 'stolen'), base, new Set(['API_KEY']))).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringContaining('API_KEY'),
    });
    expect(reconcileEnv(`API_KEY=${MASK}\nDATABASE_URL=${MASK}\nPORT=3000`, base, new Set(['API_KEY']))).toMatchObject({
      ok: true,
      changes: { added: [], changed: [], removed: [] },
    });
  });
});
