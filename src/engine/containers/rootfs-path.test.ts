import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveInRoot } from './rootfs-path.js';

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
