import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isBerthError } from '../../util/errors.js';
import { checkHostPath } from './play.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-hostpath-'));
const check = (path: string, type: string) => ({ path, type, where: 'document 1 (Pod "p")', field: 'spec.volumes[0].hostPath' });

async function refused(path: string, type: string, pattern: RegExp): Promise<void> {
  await assert.rejects(checkHostPath(check(path, type), true), (e: unknown) => isBerthError(e) && pattern.test(e.message));
}

describe("kube play: hostPath's type, checked as the kubelet and podman check it", { timeout: 10_000 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'file');
  writeFileSync(file, 'x');

  test('Directory, File, Socket, CharDevice: the path must be one, else the field path names it', async () => {
    await checkHostPath(check(dir, 'Directory'), true);
    await checkHostPath(check(file, 'File'), true);
    await checkHostPath(check('/dev/null', 'CharDevice'), true);
    await refused(file, 'Directory', /^kube play: document 1 \(Pod "p"\): spec\.volumes\[0\]\.hostPath\.type: .*\/file is not a directory$/);
    await refused(join(dir, 'missing'), 'File', /hostPath\.type: .*\/missing is not a file$/);
    await refused(file, 'Socket', /is not a socket$/);
    await refused(file, 'BlockDevice', /is not a block device$/);
    const sock = join(dir, 'sock');
    const server = createServer().listen(sock);
    await new Promise((r) => server.once('listening', r));
    try {
      await checkHostPath(check(sock, 'Socket'), true);
    } finally {
      server.close();
    }
  });

  test('DirectoryOrCreate and FileOrCreate make what is missing (only when asked to), and refuse the other kind', async () => {
    const d = join(dir, 'made', 'dir');
    await checkHostPath(check(d, 'DirectoryOrCreate'), false);
    assert.throws(() => statSync(d), 'a check alone makes nothing');
    await checkHostPath(check(d, 'DirectoryOrCreate'), true);
    assert.ok(statSync(d).isDirectory());
    const f = join(dir, 'made', 'sub', 'f');
    await checkHostPath(check(f, 'FileOrCreate'), true);
    assert.ok(statSync(f).isFile());
    await refused(file, 'DirectoryOrCreate', /exists and is not a directory$/);
    await refused(dir, 'FileOrCreate', /exists and is not a file$/);
  });
});
