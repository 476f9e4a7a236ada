import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

const NONE = ['--network', 'none'];

/**
 * rmi as podman 4.3 does it (checked against it with a private store): a name of an image with
 * several names only loses that name, -f or not; the image goes by its last name, or by ID only
 * with -f; -f removes the containers of an image it deletes, and only of one it deletes.
 */
describe('rmi removes only what it is told to', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  let id = '';
  before(async () => {
    env = await containerEnv();
    id = (await env.ok(['images', '-q', '--no-trunc', 'busybox'])).stdout.trim().slice(7);
  });
  after(() => env?.cleanup());

  const names = async () => (await env.ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter(Boolean).sort();
  const containers = async () => (await env.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();

  it('rmi -f NAME:TAG of one of several tags untags it; the other tags and the image survive', async () => {
    await env.ok(['tag', 'busybox', 'one:1', 'two:2', 'quay.io/x/three:3']);
    const r = await env.berth(['rmi', '--force', 'one:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Untagged: localhost/one:1\n');
    assert.deepEqual(await names(), ['localhost/busybox:latest', 'localhost/two:2', 'quay.io/x/three:3']);
    assert.equal((await env.ok(['images', '-q', '--no-trunc'])).stdout.trim(), `sha256:${id}`);
    // Without -f the same; and a short name of another registry's tag is untagged, not deleted.
    assert.equal((await env.ok(['rmi', 'two:2'])).stdout, 'Untagged: localhost/two:2\n');
    assert.equal((await env.ok(['rmi', '-f', 'x/three:3'])).stdout, 'Untagged: quay.io/x/three:3\n');
    assert.deepEqual(await names(), ['localhost/busybox:latest']);
  });

  it("by ID an image with several names is refused without -f (podman's message), deleted with all its names with -f", async () => {
    await env.ok(['tag', 'busybox', 'other:1']);
    const refused = await env.berth(['rmi', id.slice(0, 12)]);
    assert.equal(refused.code, 125);
    assert.equal(
      refused.stderr,
      `Error: unable to delete image "${id}" by ID with more than one tag ([localhost/busybox:latest localhost/other:1]): please force removal\n`,
    );
    const byDigest = await env.berth(['rmi', `sha256:${id}`]);
    assert.equal(byDigest.code, 125);
    assert.match(byDigest.stderr, /by digest with more than one tag/);
    assert.deepEqual(await names(), ['localhost/busybox:latest', 'localhost/other:1']);

    // Saved first, to bring it back for the other cases.
    const archive = `${env.dir}/busybox.tar`;
    await env.ok(['save', '-o', archive, 'busybox', 'other:1']);
    const forced = await env.ok(['rmi', '-f', id.slice(0, 12)]);
    assert.equal(forced.stdout, `Untagged: localhost/busybox:latest\nUntagged: localhost/other:1\nDeleted: ${id}\n`);
    assert.deepEqual(await names(), []);
    await env.ok(['load', '-q', '-i', archive]);
    await env.ok(['rmi', 'other:1']);
  });

  it('an image a container uses: its other name goes, -f or not, and the container stays; its last name only with -f, which removes the container', async () => {
    await env.ok(['create', '--name', 'user', ...NONE, 'busybox', 'true']);
    await env.ok(['tag', 'busybox', 'spare:1']);
    assert.equal((await env.ok(['rmi', '-f', 'spare:1'])).stdout, 'Untagged: localhost/spare:1\n');
    assert.deepEqual(await containers(), ['user']);

    const inUse = await env.berth(['rmi', 'busybox']);
    assert.equal(inUse.code, 2);
    assert.match(
      inUse.stderr,
      /^Error: image used by [0-9a-f]{64}: image is in use by a container: consider listing external containers and force-removing image\n$/,
    );
    assert.deepEqual(await names(), ['localhost/busybox:latest']);
    assert.deepEqual(await containers(), ['user']);

    const archive = `${env.dir}/busybox-only.tar`;
    await env.ok(['save', '-o', archive, 'busybox']);
    // Several inputs run in order: the first untags, the second is then the last name.
    await env.ok(['tag', 'busybox', 'spare:2']);
    const forced = await env.ok(['rmi', '-f', 'spare:2', 'busybox']);
    assert.equal(forced.stdout, `Untagged: localhost/spare:2\nUntagged: localhost/busybox:latest\nDeleted: ${id}\n`);
    assert.deepEqual(await containers(), []);
    assert.deepEqual(await names(), []);
    await env.ok(['load', '-q', '-i', archive]);
  });

  it('exit codes: 1 for an unknown image (each failure listed), 0 with -i; what could go still goes', async () => {
    const unknown = await env.berth(['rmi', 'nothere']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'Error: nothere: image not known\n');
    assert.equal((await env.berth(['rmi', '-i', 'nothere'])).code, 0);
    // podman's -f passes over a missing name too.
    const forced = await env.berth(['rmi', '-f', 'nothere']);
    assert.deepEqual([forced.code, forced.stderr], [0, '']);
    const two = await env.berth(['rmi', 'nothere', 'gone']);
    assert.equal(two.code, 1);
    assert.equal(two.stderr, 'Error: 2 errors occurred:\n\t* nothere: image not known\n\t* gone: image not known\n');
    await env.ok(['tag', 'busybox', 'partial:1']);
    const mixed = await env.berth(['rmi', 'nothere', 'partial:1']);
    assert.equal(mixed.code, 1);
    assert.equal(mixed.stdout, 'Untagged: localhost/partial:1\n');
    assert.deepEqual(await names(), ['localhost/busybox:latest']);
  });
});
