import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

/** volume export/import/mount, and load's message for input that is no image, as podman's tests use them. */
describe('volume export, import and mount; load of what is no image', { timeout: 180_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('exports a volume as a tar and imports it into another', async () => {
    await env.ok(['volume', 'create', 'src']);
    await env.ok([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'src:/data',
      'busybox',
      'sh',
      '-c',
      'echo hello > /data/test; mkdir /data/d; echo deep > /data/d/f',
    ]);
    const tarFile = join(env.dir, 'vol.tar');
    await env.ok(['volume', 'export', 'src', '--output', tarFile]);
    const listed = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(listed, ['d/', 'd/f', 'test']);
    const toStdout = await env.ok(['volume', 'export', 'src']);
    assert.ok(toStdout.stdout.includes('hello\n'));

    await env.ok(['volume', 'create', 'dst']);
    await env.ok(['volume', 'import', 'dst', '-'], { input: readFileSync(tarFile) });
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', '-v', 'dst:/data', 'busybox', 'cat', '/data/test', '/data/d/f'])).stdout, 'hello\ndeep\n');

    const mountPoint = (await env.ok(['volume', 'mount', 'dst'])).stdout.trim();
    writeFileSync(join(mountPoint, 'from-host'), 'written on the host\n');
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', '-v', 'dst:/data', 'busybox', 'cat', '/data/from-host'])).stdout, 'written on the host\n');
    assert.equal((await env.ok(['volume', 'unmount', 'dst'])).stdout, 'dst\n');
  });

  it('refuses what is no tar, an unknown volume, and a tar that would write through a link in the volume', async () => {
    const junk = await env.berth(['volume', 'import', 'dst', '-'], { input: 'not a tar at all' });
    assert.equal(junk.code, 125);
    const unknown = await env.berth(['volume', 'export', 'nosuch']);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /^Error: .*nosuch/m);
    // A link in the archive, then a file "under" it: the file must not land where the link points.
    const outside = join(env.dir, 'outside');
    const work = join(env.dir, 'evil');
    mkdirSync(work);
    symlinkSync(outside, join(work, 'link'));
    spawnSync('tar', ['-cf', join(env.dir, 'evil.tar'), '-C', work, 'link']);
    spawnSync('rm', [join(work, 'link')]);
    mkdirSync(join(work, 'link'));
    writeFileSync(join(work, 'link', 'file'), 'pwned\n');
    spawnSync('tar', ['-rf', join(env.dir, 'evil.tar'), '-C', work, 'link/file']);
    const evil = await env.berth(['volume', 'import', 'dst', join(env.dir, 'evil.tar')]);
    assert.equal(evil.code, 125);
    assert.equal(existsSync(join(outside, 'file')), false);
  });

  it('says the payload is no image format when load is given something else', async () => {
    const file = join(env.dir, 'invalid');
    writeFileSync(file, 'I am an invalid file\n');
    for (const r of [await env.berth(['load', '-i', file]), await env.berth(['load'], { input: 'a corrupt tarball' })]) {
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: payload does not match any of the supported image formats: /);
    }
  });
});
