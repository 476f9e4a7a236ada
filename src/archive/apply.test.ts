import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyLayer } from './apply.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from './_tar-writer.js';
import { CAPABILITY_HEX, needsRoot, setXattr, sha256, streamOf, tarOf, tempDir, xattrsOf, type TestEntry } from './_testing.js';

const T = 1_600_000_000; // the default mtime tarOf gives entries
const at = (s: number): Date => new Date(s * 1000);

describe('applyLayer', { skip: needsRoot }, () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => ({ dir: base, cleanup } = await tempDir()));
  after(() => cleanup());

  async function apply(tar: Buffer, opts = {}): Promise<{ dir: string; diffID: string | undefined; size: number }> {
    const dir = join(base, `layer${n++}`);
    await mkdir(dir);
    return { dir, ...(await applyLayer(streamOf(tar, 1000), dir, opts)) };
  }

  async function applyEntries(entries: TestEntry[], opts = {}): Promise<{ dir: string; diffID: string | undefined; size: number; tar: Buffer }> {
    const tar = await tarOf(entries);
    return { tar, ...(await apply(tar, opts)) };
  }

  it('unpacks every entry kind with its metadata, and hashes the tar', async () => {
    const { dir, diffID, size, tar } = await applyEntries([
      { name: './', type: 'directory', mode: 0o751, mtime: at(T + 1) },
      { name: 'etc/', type: 'directory', mode: 0o750, uid: 7, gid: 8, mtime: at(T + 2) },
      { name: 'etc/passwd', content: 'root:x:0:0\n', mode: 0o640, uid: 1000, gid: 1001, mtime: at(T + 3) },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
      { name: 'srv/', type: 'directory', mode: 0o2775, gid: 50 },
      { name: 'usr/bin/su', content: 'su!', mode: 0o4755, uid: 0, gid: 0 },
      { name: 'usr/bin/wall', content: 'w', mode: 0o2755, gid: 5 },
      { name: 'bin/sh', type: 'symlink', linkname: '../usr/bin/busybox', uid: 3, gid: 4, mtime: at(T + 4) },
      { name: 'bin/abs', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'usr/bin/su-again', type: 'link', linkname: 'usr/bin/su' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime: at(T + 5) },
      { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
      { name: 'run/initctl', type: 'fifo', mode: 0o600, uid: 2 },
      { name: 'empty', content: '' },
      { name: 'frac', content: 'f', pax: { mtime: '1600000000.25', uid: '3000000', gid: '3000001' } },
      { name: `${'d'.repeat(120)}/${'f'.repeat(120)}`, content: 'long name' },
      { name: 'xattr', content: 'x', pax: { 'SCHILY.xattr.user.note': 'hello', 'SCHILY.xattr.trusted.t': 'v' } },
    ]);
    assert.equal(diffID, sha256(tar));
    assert.equal(size, 11 + 3 + 1 + 1 + 9 + 1); // the hard link is not counted twice

    const s = async (p: string) => lstat(join(dir, p));
    const root = await s('.');
    assert.equal(root.mode & 0o7777, 0o751);
    assert.equal(root.mtimeMs, (T + 1) * 1000);
    const etc = await s('etc');
    assert.ok(etc.isDirectory());
    assert.deepEqual([etc.mode & 0o7777, etc.uid, etc.gid, etc.mtimeMs], [0o750, 7, 8, (T + 2) * 1000]); // set after its content
    const passwd = await s('etc/passwd');
    assert.deepEqual([passwd.mode & 0o7777, passwd.uid, passwd.gid, passwd.mtimeMs], [0o640, 1000, 1001, (T + 3) * 1000]);
    assert.equal(await readFile(join(dir, 'etc/passwd'), 'utf8'), 'root:x:0:0\n');
    assert.equal((await s('tmp')).mode & 0o7777, 0o1777);
    assert.deepEqual([(await s('srv')).mode & 0o7777, (await s('srv')).gid], [0o2775, 50]);
    assert.equal((await s('usr/bin/su')).mode & 0o7777, 0o4755);
    assert.equal((await s('usr/bin/wall')).mode & 0o7777, 0o2755);
    assert.equal((await s('usr')).mode & 0o7777, 0o755); // made implicitly
    const sh = await s('bin/sh');
    assert.ok(sh.isSymbolicLink());
    assert.equal(await readlink(join(dir, 'bin/sh')), '../usr/bin/busybox');
    assert.deepEqual([sh.uid, sh.gid, sh.mtimeMs], [3, 4, (T + 4) * 1000]);
    assert.equal(await readlink(join(dir, 'bin/abs')), '/etc/passwd');
    const su = await s('usr/bin/su');
    const su2 = await s('usr/bin/su-again');
    assert.equal(su2.ino, su.ino);
    assert.equal(su.nlink, 2);
    const nul = await s('dev/null');
    assert.ok(nul.isCharacterDevice());
    assert.deepEqual([nul.rdev, nul.mode & 0o7777, nul.mtimeMs], [(1 << 8) | 3, 0o666, (T + 5) * 1000]);
    const loop = await s('dev/loop0');
    assert.ok(loop.isBlockDevice());
    assert.deepEqual([loop.rdev, loop.mode & 0o7777, loop.gid], [7 << 8, 0o660, 6]);
    const fifo = await s('run/initctl');
    assert.ok(fifo.isFIFO());
    assert.deepEqual([fifo.mode & 0o7777, fifo.uid], [0o600, 2]);
    assert.equal((await s('empty')).size, 0);
    const frac = await s('frac');
    assert.deepEqual([frac.mtimeMs, frac.uid, frac.gid], [1_600_000_000_250, 3000000, 3000001]);
    assert.equal(await readFile(join(dir, 'd'.repeat(120), 'f'.repeat(120)), 'utf8'), 'long name');
    assert.deepEqual(xattrsOf(join(dir, 'xattr')), {
      'trusted.t': Buffer.from('v').toString('hex'),
      'user.note': Buffer.from('hello').toString('hex'),
    });
  });

  it('turns whiteouts into overlay whiteouts and opaque directories', async () => {
    const { dir } = await applyEntries([
      { name: 'etc/.wh.motd', content: '', uid: 4, gid: 5 },
      { name: '.wh.top', content: '' },
      { name: 'var/lib/.wh..wh..opq', content: '' },
      { name: 'var/lib/kept', content: 'k' },
      { name: '.wh..wh.plnk/123', content: 'aufs hard link dir' },
      { name: 'a/.wh..wh.aufs', content: '' },
    ]);
    for (const [p, uid] of [
      ['etc/motd', 4],
      ['top', 0],
    ] as const) {
      const st = await lstat(join(dir, p));
      assert.ok(st.isCharacterDevice(), p);
      assert.deepEqual([st.rdev, st.mode & 0o7777, st.uid], [0, 0, uid]);
    }
    assert.deepEqual(xattrsOf(join(dir, 'var/lib')), { 'trusted.overlay.opaque': '79' });
    assert.equal(await readFile(join(dir, 'var/lib/kept'), 'utf8'), 'k');
    await assert.rejects(lstat(join(dir, '.wh..wh.plnk')));
    await assert.rejects(lstat(join(dir, 'a/.wh..wh.aufs')));
  });

  it('updates an existing directory and replaces anything else', async () => {
    const { dir } = await applyEntries([
      { name: 'd/', type: 'directory', mode: 0o700 },
      { name: 'd/f', content: 'one', pax: { 'SCHILY.xattr.user.a': '1' } },
      { name: 'd/', type: 'directory', mode: 0o755, uid: 9, pax: { 'SCHILY.xattr.user.d': 'dir' } },
      { name: 'd/f', content: 'two' },
      { name: 'file-then-dir', content: 'x' },
      { name: 'file-then-dir/', type: 'directory' },
      { name: 'dir-then-link/sub/f', content: 'gone' },
      { name: 'dir-then-link', type: 'symlink', linkname: 'd' },
      { name: 'link-then-file', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'link-then-file', content: 'mine' },
      { name: 'dev-then-file', type: 'character-device', devmajor: 1, devminor: 5 },
      { name: 'dev-then-file', content: 'plain' },
      { name: 'whiteout-then-file/.wh.x', content: '' },
      { name: 'whiteout-then-file/x', content: 'back' },
    ]);
    const d = await lstat(join(dir, 'd'));
    assert.deepEqual([d.mode & 0o7777, d.uid], [0o755, 9]);
    assert.deepEqual(xattrsOf(join(dir, 'd')), { 'user.d': Buffer.from('dir').toString('hex') });
    assert.equal(await readFile(join(dir, 'd/f'), 'utf8'), 'two');
    assert.deepEqual(xattrsOf(join(dir, 'd/f')), {}); // the replaced file's xattrs went with it
    assert.ok((await lstat(join(dir, 'file-then-dir'))).isDirectory());
    assert.equal(await readlink(join(dir, 'dir-then-link')), 'd');
    assert.equal(await readFile(join(dir, 'link-then-file'), 'utf8'), 'mine');
    assert.equal(await readFile(join(dir, 'dev-then-file'), 'utf8'), 'plain');
    assert.equal(await readFile(join(dir, 'whiteout-then-file/x'), 'utf8'), 'back');
  });

  it('keeps binary xattrs such as security.capability (PAX written by berth and by GNU tar)', async () => {
    const cap = Buffer.from(CAPABILITY_HEX, 'hex');
    const ours = Buffer.concat([
      encodeHeader({ name: 'bin/ping', type: 'file', mode: 0o755, uid: 0, gid: 0, size: 4, mtime: T, xattrs: new Map([['security.capability', cap]]) }),
      Buffer.from('ping'),
      padding(4),
      END_OF_ARCHIVE,
    ]);
    const a = await apply(ours);
    assert.equal(xattrsOf(join(a.dir, 'bin/ping'))['security.capability'], CAPABILITY_HEX);

    const src = join(base, 'gnu-src');
    await mkdir(join(src, 'bin'), { recursive: true });
    await writeFile(join(src, 'bin/ping'), 'ping');
    setXattr(join(src, 'bin/ping'), 'security.capability', CAPABILITY_HEX);
    setXattr(join(src, 'bin/ping'), 'user.bin', '00ff80');
    const gnu = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=posix', '-C', src, '-cf', '-', '.']);
    const b = await apply(gnu);
    assert.deepEqual(xattrsOf(join(b.dir, 'bin/ping')), { 'security.capability': CAPABILITY_HEX, 'user.bin': '00ff80' });
    assert.equal(b.diffID, sha256(gnu));
  });

  it('reads GNU long names and long link targets', async () => {
    const src = join(base, 'gnu-long');
    const deep = join(src, 'x'.repeat(90), 'y'.repeat(90), 'z'.repeat(90));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'file'), 'deep');
    await symlink(`../${'t'.repeat(150)}`, join(deep, 'link'));
    const gnu = execFileSync('tar', ['--format=gnu', '-C', src, '-cf', '-', '.']);
    const { dir } = await apply(gnu);
    const rel = join('x'.repeat(90), 'y'.repeat(90), 'z'.repeat(90));
    assert.equal(await readFile(join(dir, rel, 'file'), 'utf8'), 'deep');
    assert.equal(await readlink(join(dir, rel, 'link')), `../${'t'.repeat(150)}`);
  });

  it('leaves ownership alone with ignoreOwnership', async () => {
    const { dir } = await applyEntries([{ name: 'f', content: 'x', uid: 1234, gid: 4321, mode: 0o4711 }], { ignoreOwnership: true });
    const st = await lstat(join(dir, 'f'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [process.getuid!(), process.getgid!(), 0o4711]);
  });

  it('accepts an empty layer and hashes bytes after the end-of-archive marker', async () => {
    const empty = await apply(Buffer.alloc(0));
    assert.equal(empty.diffID, sha256(Buffer.alloc(0)));
    const tar = Buffer.concat([await tarOf([{ name: 'a', content: 'a' }]), Buffer.from('trailing junk')]);
    const r = await apply(tar);
    assert.equal(r.diffID, sha256(tar));
    assert.equal(await readFile(join(r.dir, 'a'), 'utf8'), 'a');
  });

  it('creates devices a hard link points at before linking', async () => {
    const { dir } = await applyEntries([
      { name: 'dev/tty', type: 'character-device', devmajor: 5, devminor: 0, mode: 0o620 },
      { name: 'dev/tty-link', type: 'link', linkname: 'dev/tty' },
      { name: 'dev/zero', type: 'character-device', devmajor: 1, devminor: 5 },
    ]);
    const a = await lstat(join(dir, 'dev/tty'));
    const b = await lstat(join(dir, 'dev/tty-link'));
    assert.deepEqual([a.ino, a.rdev, a.mode & 0o7777], [b.ino, 5 << 8, 0o620]);
    assert.ok((await lstat(join(dir, 'dev/zero'))).isCharacterDevice());
  });
});
