import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDirInView, resolveInRoot, resolveInView } from './rootfs-path.js';

describe('resolveInRoot', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-rootfs-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  symlinkSync('/etc', join(root, 'abs'));
  symlinkSync('../../../../etc', join(root, 'climb'));
  symlinkSync('etc/passwd', join(root, 'pw'));

  it('follows absolute links from the container root, not the host', async () => {
    assert.equal(await resolveInRoot(root, '/abs/passwd'), join(root, 'etc', 'passwd'));
  });
  it('never climbs above the root', async () => {
    assert.equal(await resolveInRoot(root, '/climb/passwd'), join(root, 'etc', 'passwd'));
    assert.equal(await resolveInRoot(root, '/../../etc'), join(root, 'etc'));
  });
  it('follows the last link only when asked', async () => {
    assert.equal(await resolveInRoot(root, '/pw'), join(root, 'etc', 'passwd'));
    assert.equal(await resolveInRoot(root, '/pw', false), join(root, 'pw'));
  });
  it('keeps missing components', async () => {
    assert.equal(await resolveInRoot(root, '/abs/new/file'), join(root, 'etc', 'new', 'file'));
  });
});

describe('resolveInView', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-view-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const vol = join(dir, 'vol');
  const bind = join(dir, 'bind');
  for (const d of [join(root, 'data', 'mnt'), join(vol, 'mnt'), bind]) mkdirSync(d, { recursive: true });
  symlinkSync('/data/mnt', join(vol, 'abs'));
  symlinkSync('../../../..', join(bind, 'up'));
  const view = {
    root,
    mounts: [
      { destination: '/data', source: vol },
      { destination: '/data/mnt/', source: bind },
    ],
  };

  it('maps a path to the deepest mount covering it', async () => {
    assert.deepEqual(await resolveInView(view, '/data/x'), { path: '/data/x', host: join(vol, 'x') });
    assert.deepEqual(await resolveInView(view, '/data/mnt/f'), { path: '/data/mnt/f', host: join(bind, 'f') });
    assert.deepEqual(await resolveInView(view, '/data'), { path: '/data', host: vol });
    assert.deepEqual(await resolveInView(view, '/etc'), { path: '/etc', host: join(root, 'etc') });
  });
  it('follows links inside a mount from the container root, and never out of it', async () => {
    assert.deepEqual(await resolveInView(view, '/data/abs/f'), { path: '/data/mnt/f', host: join(bind, 'f') });
    assert.deepEqual(await resolveInView(view, '/data/mnt/up/etc'), { path: '/etc', host: join(root, 'etc') });
  });
});

describe('openDirInView', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-open-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  mkdirSync(join(dir, 'host', 'b'), { recursive: true });
  const view = { root, mounts: [] };

  it('opens a directory by descriptor, and says undefined for a missing one', () => {
    const d = openDirInView(view, '/a/b')!;
    try {
      writeFileSync(join(d.path, 'f'), 'x');
      assert.equal(readFileSync(join(root, 'a', 'b', 'f'), 'utf8'), 'x');
    } finally {
      closeSync(d.fd);
    }
    assert.equal(openDirInView(view, '/a/missing'), undefined);
  });
  it('refuses a link swapped in on the way, even one the host could follow', () => {
    rmSync(join(root, 'a'), { recursive: true });
    symlinkSync(join(dir, 'host'), join(root, 'a'));
    assert.throws(() => openDirInView(view, '/a/b'), /ELOOP|ENOTDIR/);
  });
});
