import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { digestOf } from '../../oci/digest.js';
import { berth, ok, podmanArgs, run, tempDir } from '../../testing/cli.js';
import { oneFileLayer, writeTestLayout } from '../../testing/oci-layout.js';
import { USERS, withAuthRegistry } from './_testing.js';

const writeLayout = (dir: string, tag: string) => writeTestLayout(dir, tag, { text: 'hello from behind the berth registry auth\n' });

const alice = `alice:${USERS.alice}`;
const bob = `bob:${USERS.bob}`;

describe('registry access control end to end', () => {
  for (const token of [true, false]) {
    it(`skopeo copies with --dest-creds and --src-creds (${token ? 'token' : 'basic'} auth)`, () =>
      withAuthRegistry({ token }, async ({ registry, dir }) => {
        const host = registry.url.replace(/^http:\/\//, '');
        const src = join(dir, 'layout');
        const digest = await writeLayout(src, 'v1');
        const copy = (args: string[]) => run('skopeo', ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', ...args]);
        assert.equal((await copy(['--dest-creds', alice, `oci:${src}:v1`, `docker://${host}/private/img:v1`])).code, 0);
        assert.equal((await copy(['--dest-creds', alice, `oci:${src}:v1`, `docker://${host}/public/img:v1`])).code, 0);
        const denied = await copy(['--dest-creds', bob, `oci:${src}:v1`, `docker://${host}/private/img:v2`]);
        assert.notEqual(denied.code, 0);
        assert.match(denied.stderr, /denied|unauthorized|forbidden|authentication required/i);
        assert.notEqual((await copy(['--dest-creds', 'alice:wrong', `oci:${src}:v1`, `docker://${host}/private/img:v3`])).code, 0);

        const out = join(dir, 'out');
        await ok('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--src-creds', alice, `docker://${host}/private/img:v1`, `oci:${out}:back`]);
        const inspect = (ref: string, creds: string[] = []) => run('skopeo', ['inspect', '--raw', '--tls-verify=false', ...creds, `docker://${host}/${ref}`]);
        assert.equal(digestOf((await inspect('public/img:v1')).stdout), digest, 'anonymous pull of a public repository');
        assert.notEqual((await inspect('private/img:v1')).code, 0, 'no anonymous pull of a private one');
        assert.notEqual((await inspect('private/img:v1', ['--creds', bob])).code, 0);
        assert.equal(digestOf((await inspect('private/img:v1', ['--creds', alice])).stdout), digest);
      }));
  }

  it('skopeo, podman and berth verify its certificate and log in over TLS', async () => {
    const tmp = tempDir('berth-reg-tls-e2e-');
    try {
      await withAuthRegistry({ token: true, tls: true }, async ({ registry, dir, certDir }) => {
        assert.match(registry.url, /^https:\/\//);
        const host = registry.url.replace(/^https:\/\//, '');
        const src = join(dir, 'layout');
        const digest = await writeLayout(src, 'v1');
        // Verification stays on: without the certificate the clients must refuse the server.
        const untrusted = await run('skopeo', ['copy', '--quiet', '--dest-creds', alice, `oci:${src}:v1`, `docker://${host}/private/tls:v1`]);
        assert.notEqual(untrusted.code, 0);
        assert.match(untrusted.stderr, /certificate/i);
        await ok('skopeo', [
          'copy',
          '--quiet',
          '--preserve-digests',
          '--dest-cert-dir',
          certDir,
          '--dest-creds',
          alice,
          `oci:${src}:v1`,
          `docker://${host}/private/tls:v1`,
        ]);
        const raw = await run('skopeo', ['inspect', '--raw', '--cert-dir', certDir, '--creds', alice, `docker://${host}/private/tls:v1`]);
        assert.equal(raw.code, 0, raw.stderr);
        assert.equal(digestOf(raw.stdout), digest);

        const podman = (args: string[]) => run('podman', [...podmanArgs(tmp.path), ...args]);
        const pulled = await podman(['pull', '--quiet', '--cert-dir', certDir, '--creds', alice, `${host}/private/tls:v1`]);
        assert.equal(pulled.code, 0, pulled.stderr);
        assert.equal(
          (await podman(['pull', '--quiet', '--cert-dir', certDir, `${host}/private/tls:v1`])).code === 0,
          false,
          'no anonymous pull of a private repository',
        );

        const store = join(tmp.path, 'berth');
        const authfile = ['--authfile', join(tmp.path, 'auth.json')];
        const login = await berth(store, ['login', ...authfile, '--cert-dir', certDir, '-u', 'alice', '-p', USERS.alice, host]);
        assert.equal(login.code, 0, login.stderr);
        const got = await berth(store, ['pull', '-q', ...authfile, '--cert-dir', certDir, `${host}/private/tls:v1`]);
        assert.equal(got.code, 0, got.stderr);
        const pushed = await berth(store, ['push', '-q', ...authfile, '--cert-dir', certDir, `${host}/private/tls:v1`, `${host}/private/tls:v2`]);
        assert.equal(pushed.code, 0, pushed.stderr);
        const tags = await run('skopeo', ['list-tags', '--cert-dir', certDir, '--creds', alice, `docker://${host}/private/tls`]);
        assert.deepEqual((JSON.parse(tags.stdout) as { Tags: string[] }).Tags.sort(), ['v1', 'v2']);
      });
    } finally {
      await run('podman', [...podmanArgs(tmp.path), 'system', 'reset', '-f']);
      tmp.cleanup();
    }
  });

  it('podman pushes and pulls with --creds against the token server', async () => {
    const tmp = tempDir('berth-reg-auth-e2e-');
    try {
      await withAuthRegistry({ token: true }, async ({ registry }) => {
        const host = registry.url.replace(/^http:\/\//, '');
        const podman = (args: string[]) => run('podman', [...podmanArgs(tmp.path), ...args]);
        const rootfs = join(tmp.path, 'rootfs.tar');
        await writeFile(rootfs, await oneFileLayer('hello from behind the berth registry auth\n'));
        assert.equal((await podman(['import', rootfs, 'localhost/auth-e2e:v1'])).code, 0);
        const ref = `${host}/private/podman:v1`;
        const anonymous = await podman(['push', '--quiet', '--tls-verify=false', 'localhost/auth-e2e:v1', `docker://${ref}`]);
        assert.notEqual(anonymous.code, 0, 'an anonymous push is refused');
        const pushed = await podman(['push', '--quiet', '--tls-verify=false', '--creds', alice, 'localhost/auth-e2e:v1', `docker://${ref}`]);
        assert.equal(pushed.code, 0, pushed.stderr);
        assert.notEqual((await podman(['pull', '--quiet', '--tls-verify=false', '--creds', bob, ref])).code, 0, 'bob may not pull private');
        const pulled = await podman(['pull', '--quiet', '--tls-verify=false', '--creds', alice, ref]);
        assert.equal(pulled.code, 0, pulled.stderr);
      });
    } finally {
      await run('podman', [...podmanArgs(tmp.path), 'system', 'reset', '-f']);
      tmp.cleanup();
    }
  });
});
