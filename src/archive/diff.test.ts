import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { link, lstat, lutimes, mkdir, readdir, readFile, readlink, symlink, writeFile, chmod, chown } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isBerthError } from '../util/errors.js';
import { applyLayer } from './apply.js';
import { diffDirectory, tarDirectory } from './diff.js';
import { TarReader, type TarHeader } from './_tar-reader.js';
import { CAPABILITY_HEX, needsRoot, setXattr, streamOf, tempDir, xattrsOf } from './_testing.js';

const T = 1_650_000_000;

async function bytes(s: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function headers(tar: Buffer): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  for await (const e of new TarReader(streamOf(tar)).entries()) out.push(e.header);
  return out;
}

/** An overlay upperdir-like tree with every kind of entry. */
async function makeTree(root: string): Promise<Server> {
  const f = async (p: string, content: string | Buffer, mode = 0o644, uid = 0, gid = 0): Promise<void> => {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), content);
    await chown(join(root, p), uid, gid);
    await chmod(join(root, p), mode);
  };
  await f('etc/passwd', 'root:x:0:0\n', 0o640, 1000, 1001);
  await f('bin/su', 'su binary', 0o4755);
  await f('bin/wall', 'wall', 0o2755, 0, 5);
  await f('bin/ping', 'ping', 0o755);
  setXattr(join(root, 'bin/ping'), 'security.capability', CAPABILITY_HEX);
  setXattr(join(root, 'bin/ping'), 'user.bytes', '00ff80');
  await f('data/random', randomBytes(700_000));
  await f('data/empty', '');
  await mkdir(join(root, 'sbin'));
  await link(join(root, 'bin/su'), join(root, 'sbin/su2'));
  await link(join(root, 'bin/su'), join(root, 'data/su3'));
  await symlink('busybox', join(root, 'bin/sh'));
  await symlink('/etc/passwd', join(root, 'abs'));
  await mkdir(join(root, 'tmp'), { mode: 0o1777 });
  await chmod(join(root, 'tmp'), 0o1777);
  await mkdir(join(root, 'dev'));
  execFileSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']);
  execFileSync('mknod', ['-m', '660', join(root, 'dev/loop0'), 'b', '7', '0']);
  execFileSync('mknod', ['-m', '000', join(root, 'etc/gone'), 'c', '0', '0']); // an overlay whiteout, as overlayfs makes it
  await mkdir(join(root, 'run'));
  execFileSync('mkfifo', ['-m', '600', join(root, 'run/fifo')]);
  await f('opq/new', 'only this');
  setXattr(join(root, 'opq'), 'trusted.overlay.opaque', '79');
  setXattr(join(root, 'opq'), 'user.kept', '6b');
  setXattr(join(root, 'etc/passwd'), 'trusted.overlay.origin', '00'); // overlay's own: dropped
  const long = join('l'.repeat(110), 'm'.repeat(110));
  await f(join(long, 'file'), 'long');
  await f('naïve/ünïcødé', 'utf-8');
  await f('we\nird = name', 'odd');
  setXattr(join(root, 'we\nird = name'), 'user.odd', '01');
  const server = createServer();
  await new Promise<void>((res) => server.listen(join(root, 'run/sock'), res));
  server.unref();
  // whole-second times everywhere, directories last
  const all: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(root, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if ((await lstat(join(root, child))).isDirectory()) await walk(child);
      all.push(child);
    }
  };
  await walk('');
  for (const [i, p] of all.entries()) await lutimes(join(root, p), T + i, T + i);
  return server;
}

interface Node {
  kind: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  nlink: number;
  rdev: number;
  content?: string;
  target?: string;
  xattrs: Record<string, string>;
}

/** Everything about a tree that a layer carries, root excluded. */
async function snapshot(root: string, rel = '', out: Record<string, Node> = {}): Promise<Record<string, Node>> {
  for (const name of (await readdir(join(root, rel))).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const abs = join(root, p);
    const st = await lstat(abs);
    const kind = st.isDirectory()
      ? 'dir'
      : st.isFile()
        ? 'file'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isCharacterDevice()
            ? 'char'
            : st.isBlockDevice()
              ? 'block'
              : st.isFIFO()
                ? 'fifo'
                : 'socket';
    if (kind === 'socket') continue;
    out[p] = {
      kind,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: Math.floor(st.mtimeMs / 1000),
      size: kind === 'dir' ? 0 : st.size,
      nlink: kind === 'dir' ? 0 : st.nlink,
      rdev: st.rdev,
      ...(kind === 'file'
        ? {
            content: createHash('sha256')
              .update(await readFile(abs))
              .digest('hex'),
          }
        : {}),
      ...(kind === 'symlink' ? { target: await readlink(abs) } : {}),
      xattrs: Object.fromEntries(Object.entries(xattrsOf(abs)).filter(([k]) => !k.startsWith('trusted.overlay.origin'))),
    };
    if (kind === 'dir') await snapshot(root, p, out);
  }
  return out;
}

describe('diffDirectory', { skip: needsRoot }, () => {
  let base: string;
  let src: string;
  let cleanup: () => Promise<void>;
  let server: Server;
  before(async () => {
    ({ dir: base, cleanup } = await tempDir());
    src = join(base, 'upper');
    await mkdir(src);
    server = await makeTree(src);
  });
  after(async () => {
    server.close();
    await cleanup();
  });

  it('writes whiteouts, opaque markers, hard links and xattrs in the layer format', async () => {
    const tar = await bytes(diffDirectory(src));
    const hs = await headers(tar);
    const names = hs.map((h) => h.name);
    assert.deepEqual(
      names,
      [...names].sort((a, b) => (a.replace(/\/$/, '') < b.replace(/\/$/, '') ? -1 : 1)),
      'sorted',
    );
    const by = new Map(hs.map((h) => [h.name, h]));
    assert.deepEqual([by.get('etc/.wh.gone')?.type, by.get('etc/.wh.gone')?.mode, by.get('etc/.wh.gone')?.size], ['file', 0o600, 0]);
    assert.equal(by.has('etc/gone'), false);
    assert.equal(names[names.indexOf('opq/') + 1], 'opq/.wh..wh..opq');
    assert.deepEqual([...by.get('opq/')!.xattrs.keys()], ['user.kept']);
    assert.deepEqual([...by.get('etc/passwd')!.xattrs.keys()], []);
    assert.equal(by.get('bin/ping')!.xattrs.get('security.capability')!.toString('hex'), CAPABILITY_HEX);
    assert.deepEqual([by.get('data/su3')?.type, by.get('sbin/su2')?.type], ['link', 'link']);
    assert.equal(by.get('data/su3')!.linkname, 'bin/su');
    assert.equal(by.get('bin/su')!.type, 'file');
    assert.deepEqual([by.get('dev/null')?.type, by.get('dev/null')?.devmajor, by.get('dev/null')?.devminor], ['char', 1, 3]);
    assert.deepEqual([by.get('dev/loop0')?.type, by.get('dev/loop0')?.devmajor], ['block', 7]);
    assert.equal(by.get('run/fifo')?.type, 'fifo');
    assert.equal(
      names.some((x) => x.startsWith('run/sock')),
      false,
    );
    // GNU tar reads it too
    const listing = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-tvf', '-'], { input: tar, encoding: 'utf8' });
    assert.match(listing, /bin\/ping/);
    assert.match(listing, /naïve\/ünïcødé/);
  });

  it('round-trips through applyLayer to the same tree and the same bytes', async () => {
    const tar = await bytes(diffDirectory(src));
    const dst = join(base, 'applied');
    await mkdir(dst);
    await applyLayer(streamOf(tar, 65536), dst);
    assert.deepEqual(await snapshot(dst), await snapshot(src));
    assert.ok((await bytes(diffDirectory(dst))).equals(tar), 'diff of the unpacked layer gives the same bytes');
    assert.ok((await bytes(diffDirectory(src))).equals(tar), 'deterministic');
  });

  it('clamps mtimes to a timestamp', async () => {
    const clamp = T + 10;
    const tar = await bytes(diffDirectory(src, { timestamp: clamp }));
    const hs = await headers(tar);
    assert.ok(hs.every((h) => h.mtime <= clamp));
    assert.ok(hs.some((h) => h.mtime === clamp) && hs.some((h) => h.mtime < clamp));
    assert.ok((await bytes(diffDirectory(src, { timestamp: clamp }))).equals(tar));
  });

  it('leaves out excluded paths', async () => {
    const hs = await headers(await bytes(diffDirectory(src, { exclude: (p) => p === 'data' || p === 'bin/ping' })));
    assert.equal(
      hs.some((h) => h.name.startsWith('data') || h.name === 'bin/ping'),
      false,
    );
    assert.ok(hs.some((h) => h.name === 'bin/su'));
    assert.equal(hs.find((h) => h.name === 'sbin/su2')?.type, 'link'); // hard links follow what was written
  });

  it('refuses an upperdir that uses metacopy or redirect_dir', async () => {
    const upper = join(base, 'metacopy');
    await mkdir(upper);
    await writeFile(join(upper, 'f'), '');
    setXattr(join(upper, 'f'), 'trusted.overlay.metacopy', '00');
    await assert.rejects(bytes(diffDirectory(upper)), (e: unknown) => isBerthError(e, 'LAYER_INVALID') && /metacopy/.test(e.message));
  });
});

describe('tarDirectory', { skip: needsRoot }, () => {
  it('archives a root file system as it is, without whiteout translation', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, 'dev'));
      execFileSync('mknod', [join(dir, 'dev/zero0'), 'c', '0', '0']);
      await mkdir(join(dir, 'o'));
      setXattr(join(dir, 'o'), 'trusted.overlay.opaque', '79');
      await writeFile(join(dir, 'o/f'), 'f');
      const hs = await headers(await bytes(tarDirectory(dir)));
      assert.deepEqual(
        hs.map((h) => [h.name, h.type]),
        [
          ['dev/', 'dir'],
          ['dev/zero0', 'char'],
          ['o/', 'dir'],
          ['o/f', 'file'],
        ],
      );
      assert.equal(hs[2]!.xattrs.size, 0);
    } finally {
      await cleanup();
    }
  });

  it('fails as a stream when the directory is missing', async () => {
    await assert.rejects(bytes(tarDirectory('/nonexistent/berth-test')), /nonexistent/);
  });
});
