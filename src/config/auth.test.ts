import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { fixture } from '../testing/fixtures.js';
import {
  authFilePaths,
  authKeysForKey,
  credentialSources,
  getCredentials,
  normalizeLoginKey,
  removeCredentials,
  setCredentials,
  type AuthOptions,
} from './auth.js';
import { loadRegistriesConf } from './registries.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const expectations = JSON.parse(readFileSync(fixture('containers-image', 'docker-auth-expectations.json'), 'utf8'));
const base = fixture('containers-image', 'pkg', 'docker', 'config');
/** A fresh scratch directory per call, all under one removed when the file's tests end. */
const scratch = tempDir('berth-auth-');
after(() => scratch.cleanup());
const tmp = (): string => mkdtempSync(join(scratch.path, 'd-'));
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/**
 * Upstream's testdata/docker-credential-helper-registry script is not in the fixtures; this one
 * behaves as the README describes: registry-a.com → foo/bar, registry-b.com → identity token
 * 'fizzbuzz', anything else → not found. `store`/`erase` append to a log beside it.
 */
function helperDir(): string {
  const dir = tmp();
  const script = `#!/bin/sh
read -r input
case "$1" in
get)
  case "$input" in
  registry-a.com) echo '{"ServerURL":"registry-a.com","Username":"foo","Secret":"bar"}' ;;
  registry-b.com) echo '{"ServerURL":"registry-b.com","Username":"<token>","Secret":"fizzbuzz"}' ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
  esac ;;
store) echo "store $input" >> "${dir}/log" ;;
erase) echo "erase $input" >> "${dir}/log" ;;
esac
`;
  writeFileSync(join(dir, 'docker-credential-helper-registry'), script);
  chmodSync(join(dir, 'docker-credential-helper-registry'), 0o755);
  return dir;
}

describe('auth file lookup (docker-auth-expectations.json)', () => {
  const cases = expectations.cases as any[];
  it('has the cases', () => assert.ok(cases.length >= 23));

  for (const placement of ['xdg-runtime', 'docker-config'] as const) {
    it(`GetCredentials with the auth file as ${placement}`, async () => {
      const helpers = helperDir();
      let ran = 0;
      for (const c of cases) {
        const home = tmp();
        const runtime = join(home, 'run');
        mkdirSync(join(runtime, 'containers'), { recursive: true });
        if (c.authFile) {
          const target = placement === 'xdg-runtime' ? join(runtime, 'containers', 'auth.json') : join(home, '.docker', 'config.json');
          mkdirSync(join(target, '..'), { recursive: true });
          symlinkSync(join(base, c.authFile), target);
        }
        const opts: AuthOptions = { home, env: { XDG_RUNTIME_DIR: runtime, PATH: `${helpers}:${process.env['PATH']}` } };
        if (c.sys?.dockerAuthConfig) opts.override = { ...c.sys.dockerAuthConfig, identityToken: '' };
        if (c.sys?.registriesConf) {
          const conf = await loadRegistriesConf({ explicit: join(base, c.sys.registriesConf), dropInDirs: [join(base, c.sys.registriesConfDir)] });
          opts.credentialHelpers = conf.credentialHelpers;
        }
        const got = (await getCredentials(c.key, opts)) ?? { username: '', password: '', identityToken: '' };
        assert.deepEqual(got, c.expected, `${c.name} (${placement})`);
        ran++;
      }
      assert.equal(ran, cases.length);
    });
  }
});

describe('auth files', () => {
  it('looks in --authfile / $REGISTRY_AUTH_FILE alone, else the standard order', () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/7' };
    assert.deepEqual(authFilePaths({ home: '/h', env }), [
      { path: '/run/user/7/containers/auth.json', legacy: false },
      { path: '/h/.config/containers/auth.json', legacy: false },
      { path: '/h/.docker/config.json', legacy: false },
      { path: '/h/.dockercfg', legacy: true },
    ]);
    assert.deepEqual(
      authFilePaths({ home: '/h', env: { XDG_CONFIG_HOME: '/x', DOCKER_CONFIG: '/d' }, uid: 42 }).map((p) => p.path),
      ['/run/containers/42/auth.json', '/x/containers/auth.json', '/d/config.json', '/h/.dockercfg'],
    );
    assert.deepEqual(authFilePaths({ home: '/h', env: { ...env, REGISTRY_AUTH_FILE: '/e.json' } }), [{ path: '/e.json', legacy: false }]);
    assert.deepEqual(authFilePaths({ home: '/h', env: { ...env, REGISTRY_AUTH_FILE: '/e.json' }, authfile: '/f.json' }), [{ path: '/f.json', legacy: false }]);
  });

  it('reads the legacy ~/.dockercfg format and URL keys', async () => {
    const home = tmp();
    symlinkSync(join(base, 'testdata/legacy.json'), join(home, '.dockercfg'));
    const opts = { home, env: { XDG_RUNTIME_DIR: join(home, 'run') } };
    assert.deepEqual(await getCredentials('docker.io', opts), { username: 'docker', password: 'io-legacy', identityToken: '' });
    assert.deepEqual(await getCredentials('localhost/ns/repo', opts), { username: 'local', password: 'host-legacy', identityToken: '' });
    assert.equal(await getCredentials('example.org', opts), undefined);
  });

  it('prefers credHelpers, falls back to credsStore, and names the helper to run', async () => {
    const home = tmp();
    mkdirSync(join(home, '.docker'));
    symlinkSync(join(base, 'testdata/config.json'), join(home, '.docker', 'config.json'));
    const opts = { home, env: { XDG_RUNTIME_DIR: join(home, 'run'), PATH: '/nonexistent' } };
    const sources = await credentialSources('registry-no-creds.com/ns/repo', opts);
    assert.deepEqual(sources, [
      {
        kind: 'helper',
        helper: 'helper-registry',
        program: 'docker-credential-helper-registry',
        serverURL: 'registry-no-creds.com',
        path: join(home, '.docker', 'config.json'),
      },
    ]);
    await assert.rejects(getCredentials('registry-no-creds.com', opts), /docker-credential-helper-registry not found in \$PATH/);
    const withPath = { ...opts, env: { ...opts.env, PATH: `${helperDir()}:${process.env['PATH']}` } };
    assert.equal(await getCredentials('registry-no-creds.com', withPath), undefined);

    const store = tmp();
    writeFileSync(
      join(store, 'auth.json'),
      JSON.stringify({ auths: { 'registry-a.com': {}, 'other.com': { auth: b64('o:p') } }, credsStore: 'helper-registry' }),
    );
    const storeOpts = { ...withPath, authfile: join(store, 'auth.json') };
    assert.deepEqual(await getCredentials('registry-a.com', storeOpts), { username: 'foo', password: 'bar', identityToken: '' });
    assert.deepEqual(await getCredentials('other.com', storeOpts), { username: 'o', password: 'p', identityToken: '' });
  });

  it('splits keys most specific first', () => {
    assert.deepEqual(authKeysForKey('a.com/b/c'), ['a.com/b/c', 'a.com/b', 'a.com']);
    assert.deepEqual(authKeysForKey('a.com'), ['a.com']);
    assert.equal(normalizeLoginKey('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(normalizeLoginKey('quay.io/'), 'quay.io');
    assert.equal(normalizeLoginKey('https://quay.io'), 'quay.io');
  });
});

describe('login/logout writes', () => {
  it('writes atomically with mode 0600, keeping other entries and unknown fields', async () => {
    const dir = tmp();
    const path = join(dir, 'sub', 'auth.json');
    const opts = { authfile: path, env: {} };
    assert.equal(await setCredentials('quay.io', 'u', 'p:w', opts), path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    writeFileSync(
      path,
      JSON.stringify({
        auths: { ...JSON.parse(readFileSync(path, 'utf8')).auths, 'x.io': { auth: b64('x:y'), email: 'keep@me' } },
        psFormat: 'table',
        credHelpers: {},
      }),
    );
    await setCredentials('quay.io/ns', 'n', 's', opts);
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(doc.psFormat, 'table');
    assert.deepEqual(doc.auths['x.io'], { auth: b64('x:y'), email: 'keep@me' });
    assert.deepEqual(await getCredentials('quay.io/ns/repo', opts), { username: 'n', password: 's', identityToken: '' });
    assert.deepEqual(await getCredentials('quay.io/other/repo', opts), { username: 'u', password: 'p:w', identityToken: '' });

    await removeCredentials('quay.io/ns', opts);
    await assert.rejects(removeCredentials('quay.io/ns', opts), /not logged in/);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(path, 'utf8')).auths), ['quay.io', 'x.io']);
    await assert.rejects(setCredentials('https://quay.io', 'u', 'p', opts), /http\[s\]/);
    await assert.rejects(setCredentials('quay.io/a:tag', 'u', 'p', opts), /contains a tag/);
  });

  it('logout of docker.io also removes the https://index.docker.io/v1/ entry', async () => {
    const dir = tmp();
    const path = join(dir, 'auth.json');
    writeFileSync(path, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('a:b') }, 'quay.io': { auth: b64('c:d') } } }));
    await removeCredentials('docker.io', { authfile: path, env: {} });
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(path, 'utf8')).auths), ['quay.io']);
  });

  it('hands store/erase to credential helpers', async () => {
    const helpers = helperDir();
    const env = { PATH: `${helpers}:${process.env['PATH']}` };
    const path = join(tmp(), 'auth.json');
    writeFileSync(path, JSON.stringify({ credHelpers: { 'h.io': 'helper-registry' } }));
    assert.equal(await setCredentials('h.io', 'u', 'p', { authfile: path, env }), 'docker-credential-helper-registry');
    assert.equal(await setCredentials('r.io', 'u', 'p', { env, credentialHelpers: ['helper-registry'] }), 'docker-credential-helper-registry');
    await removeCredentials('h.io', { authfile: path, env });
    await assert.rejects(setCredentials('h.io/ns', 'u', 'p', { authfile: path, env }), /namespaced keys are not supported/);
    const log = readFileSync(join(helpers, 'log'), 'utf8').trim().split('\n');
    assert.deepEqual(log, ['store {"ServerURL":"h.io","Username":"u","Secret":"p"}', 'store {"ServerURL":"r.io","Username":"u","Secret":"p"}', 'erase h.io']);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { credHelpers: { 'h.io': 'helper-registry' } });
  });
});
