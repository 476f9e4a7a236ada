import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isMounted, unmountAll } from './mounts.js';
import { MNT_DETACH, MS_RDONLY, nativeCalls } from './native.js';

describe('the native addon: mount, umount and network namespaces', { timeout: 30_000 }, () => {
  test('makes a new network namespace pinned at a file, and no thread of the process moves into it', async () => {
    const native = nativeCalls();
    assert.ok(native);
    const dir = mkdtempSync(join(tmpdir(), 'berth-native-'));
    const pin = join(dir, 'ns');
    writeFileSync(pin, '');
    const own = readlinkSync('/proc/self/ns/net');
    try {
      await native.netns(pin);
      assert.ok(await isMounted(pin));
      // Empty: only its loopback, which a new namespace starts with.
      const links = execFileSync('nsenter', [`--net=${pin}`, 'ip', '-o', 'link'], { encoding: 'utf8' })
        .trim()
        .split('\n');
      assert.deepEqual(
        links.map((l) => l.split(':')[1]?.trim()),
        ['lo'],
      );
      assert.notEqual(execFileSync('nsenter', [`--net=${pin}`, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim(), own);
      for (const task of readdirSync('/proc/self/task')) assert.equal(readlinkSync(`/proc/self/task/${task}/ns/net`), own, `thread ${task}`);
      await assert.rejects(native.netns(join(dir, 'missing')), { code: 'ENOENT', syscall: 'mount' });
    } finally {
      await unmountAll(pin).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mounts and unmounts with the system calls; failures carry the errno as code, as Node does', async () => {
    const native = nativeCalls();
    assert.ok(native, 'dist/lib/util/berth-native.node was not built: see scripts/build-native.mjs');
    const dir = mkdtempSync(join(tmpdir(), 'berth-native-'));
    try {
      await native.mount('tmpfs', dir, 'tmpfs', 0, 'size=1m,mode=0700');
      assert.ok(await isMounted(dir));
      writeFileSync(join(dir, 'f'), 'x');
      assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'x');
      await native.umount(dir, 0);
      assert.ok(!(await isMounted(dir)));
      await assert.rejects(native.umount(dir, 0), { code: 'EINVAL', syscall: 'umount2' });
      await assert.rejects(native.mount('tmpfs', join(dir, 'missing'), 'tmpfs', 0, ''), { code: 'ENOENT', syscall: 'mount' });
      // Flags reach the kernel: a read-only mount refuses writes.
      await native.mount('tmpfs', dir, 'tmpfs', MS_RDONLY, 'size=1m');
      assert.throws(() => writeFileSync(join(dir, 'g'), 'x'), { code: 'EROFS' });
      await native.umount(dir, MNT_DETACH);
      assert.ok(!(await isMounted(dir)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unmountAll takes off every mount stacked on a path', async () => {
    const native = nativeCalls();
    assert.ok(native);
    const dir = mkdtempSync(join(tmpdir(), 'berth-native-'));
    try {
      await native.mount('tmpfs', dir, 'tmpfs', 0, 'size=1m');
      await native.mount('tmpfs', dir, 'tmpfs', 0, 'size=1m');
      await unmountAll(dir);
      assert.ok(!(await isMounted(dir)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
