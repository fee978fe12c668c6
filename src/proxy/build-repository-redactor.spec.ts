import { carriesBuildRepository, redactBuildRepositories } from './build-repository-redactor';

const publicUrl = new URL('https://gateway.example.com');

describe('build repository redaction', () => {
  it('applies to build JSON routes only', () => {
    expect(carriesBuildRepository('POST', '/apps/web/builds')).toBe(true);
    expect(carriesBuildRepository('GET', '/apps/web/builds')).toBe(true);
    expect(carriesBuildRepository('GET', '/apps/web/builds/BABCDEFGHIJ')).toBe(true);
    expect(carriesBuildRepository('PUT', '/apps/web/builds/BABCDEFGHIJ')).toBe(true);
    expect(carriesBuildRepository('GET', '/apps/web/builds/BABCDEFGHIJ.tgz')).toBe(false);
    expect(carriesBuildRepository('POST', '/apps/web/builds/import')).toBe(false);
    expect(carriesBuildRepository('GET', '/apps/web/builds/BABCDEFGHIJ/logs')).toBe(false);
    expect(carriesBuildRepository('GET', '/apps/web/releases')).toBe(false);
  });

  it('points repository at the gateway without the rack password, keeping the rack format', () => {
    const body = `${JSON.stringify({ id: 'B1', repository: 'https://convox:rack-secret@api.rack.example/web' }, null, 2)}\n`;
    const redacted = redactBuildRepositories(body, 'rack-secret', publicUrl);
    expect(JSON.parse(redacted)).toEqual({ id: 'B1', repository: 'https://convox@gateway.example.com/web' });
    expect(redacted.endsWith('}\n')).toBe(true);
    expect(redacted).not.toContain('rack-secret');
  });

  it('handles lists and masks stray copies of the token in anything else', () => {
    const list = JSON.stringify([{ repository: 'https://convox:rack-secret@h/a' }, { description: 'oops rack-secret' }]);
    expect(redactBuildRepositories(list, 'rack-secret', publicUrl)).not.toContain('rack-secret');
    expect(redactBuildRepositories('error: rack-secret\n', 'rack-secret', publicUrl)).toBe('error: ********\n');
  });
});
