import { redactBuildRepositories } from './build-repository-redactor';

const publicUrl = new URL('https://gateway.example.com');

describe('redactBuildRepositories', () => {
  it('points repository at the gateway without the rack password', () => {
    const build = { id: 'B1', repository: 'https://convox:rack-secret@api.rack.example/web' };
    expect(redactBuildRepositories(build, publicUrl)).toEqual({ id: 'B1', repository: 'https://convox@gateway.example.com/web' });
  });

  it('rewrites every build of a list and leaves builds without repository alone', () => {
    const builds = [{ repository: 'https://convox:rack-secret@h/a' }, { id: 'B2' }];
    expect(redactBuildRepositories(builds, publicUrl)).toEqual([{ repository: 'https://convox@gateway.example.com/a' }, { id: 'B2' }]);
  });

  it('hides a repository it cannot parse', () => {
    expect(redactBuildRepositories({ repository: 'not a url with rack-secret' }, publicUrl)).toEqual({ repository: '********' });
  });
});
