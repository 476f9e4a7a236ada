import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, berthBin, ok, run, tempDir, type RunResult } from '../testing/cli.js';
import { mkfifo } from '../testing/scratch.js';

/**
 * A reader of a FIFO in a process of its own: a berth that never opens the FIFO cannot hang the
 * test, the reader is killed once berth is done.
 */
function fifoReader(path: string): { bytes(): Promise<Buffer> } {
  const child = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    async bytes() {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await closed;
      clearTimeout(timer);
      return Buffer.concat(chunks);
    },
  };
}

/** Runs berth writing into the FIFO at `fifo` while a reader drains it; gives berth's result and what was read. */
async function intoFifo(fifo: string, run: () => Promise<RunResult>): Promise<{ r: RunResult; read: Buffer }> {
  const reader = fifoReader(fifo);
  const r = await run();
  return { r, read: await reader.bytes() };
}

const isRoot = process.getuid?.() === 0;

describe('output files the user names: devices and FIFOs are written in place, files replaced whole', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  before(async () => {
    const rootfs = join(tmp.path, 'rootfs');
    mkdirSync(rootfs);
    writeFileSync(join(rootfs, 'hello'), 'hello\n');
    await ok('tar', ['-C', rootfs, '-cf', join(tmp.path, 'rootfs.tar'), '.']);
    const r = await berth(root, ['import', '-q', join(tmp.path, 'rootfs.tar'), 'img']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => tmp.cleanup());

  it('save -o a FIFO, and a symlink to one: the archive goes through, both stay what they are', async () => {
    const fifo = join(tmp.path, 'save.fifo');
    const link = join(tmp.path, 'save.link');
    mkfifo(fifo);
    symlinkSync(fifo, link);
    for (const target of [fifo, link]) {
      const { r, read } = await intoFifo(fifo, () => berth(root, ['save', '-o', target, 'img']));
      assert.equal(r.code, 0, r.stderr);
      assert.ok(read.length > 1024 && read.length % 512 === 0, `a tar came through (${read.length} bytes)`);
      assert.ok(read.includes(Buffer.from('manifest.json')));
    }
    assert.ok(lstatSync(fifo).isFIFO());
    assert.ok(lstatSync(link).isSymbolicLink());
  });

  it('save -o a character device leaves the device (one made here; /dev/null itself, put back if broken)', {
    skip: !isRoot && 'mknod needs root',
  }, async () => {
    const dev = join(tmp.path, 'null');
    assert.equal(spawnSync('mknod', ['-m', '666', dev, 'c', '1', '3']).status, 0);
    const r = await berth(root, ['save', '-o', dev, 'img']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(dev).isCharacterDevice());
    assert.ok(lstatSync('/dev/null').isCharacterDevice());
    try {
      const n = await berth(root, ['save', '-o', '/dev/null', 'img']);
      assert.equal(n.code, 0, n.stderr);
      assert.ok(lstatSync('/dev/null').isCharacterDevice(), '/dev/null was replaced');
    } finally {
      if (!lstatSync('/dev/null').isCharacterDevice()) {
        rmSync('/dev/null', { force: true });
        spawnSync('mknod', ['-m', '666', '/dev/null', 'c', '1', '3']);
      }
    }
  });

  it('save -o /dev/stdout writes to the pipe berth was given, and /dev/stdout stays a link', {
    skip: !lstatSync('/dev/stdout').isSymbolicLink() && '/dev/stdout is not a symlink here',
  }, async () => {
    const link = readlinkSync('/dev/stdout');
    try {
      // A shell pipe: node's own stdio pipes are sockets, which cannot be opened through /proc.
      const r = await run('sh', ['-c', '"$0" --root "$1" save -o /dev/stdout img | wc -c', berthBin, root]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Number(r.stdout.trim()) > 1024, `the archive went through the pipe (${r.stdout.trim()} bytes)`);
      assert.ok(lstatSync('/dev/stdout').isSymbolicLink());
    } finally {
      if (!lstatSync('/dev/stdout', { throwIfNoEntry: false })?.isSymbolicLink()) {
        rmSync('/dev/stdout', { force: true });
        symlinkSync(link, '/dev/stdout');
      }
    }
  });

  it('save -o an existing file replaces it whole: a new file renamed over it, no temp file left', async () => {
    const dir = join(tmp.path, 'regular');
    mkdirSync(dir);
    const out = join(dir, 'out.tar');
    writeFileSync(out, 'old');
    linkSync(out, join(dir, 'old-link'));
    const inode = statSync(out).ino;
    const r = await berth(root, ['save', '-o', out, 'img']);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(statSync(out).ino, inode);
    assert.ok(readFileSync(out).includes(Buffer.from('manifest.json')));
    assert.equal(readFileSync(join(dir, 'old-link'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir).sort(), ['old-link', 'out.tar']);
  });

  it('build --iidfile and copy --digestfile into FIFOs; copy to an oci-archive: that is a FIFO', async () => {
    const context = join(tmp.path, 'context');
    mkdirSync(context);
    writeFileSync(join(context, 'Containerfile'), 'FROM localhost/img\nLABEL purpose=iidfile\n');
    const iid = join(tmp.path, 'iid.fifo');
    mkfifo(iid);
    const build = await intoFifo(iid, () => berth(root, ['build', '-q', '--iidfile', iid, context]));
    assert.equal(build.r.code, 0, build.r.stderr);
    assert.equal(build.read.toString(), `sha256:${build.r.stdout.trim()}`);
    assert.ok(lstatSync(iid).isFIFO());

    const digest = join(tmp.path, 'digest.fifo');
    mkfifo(digest);
    const copy = await intoFifo(digest, () => berth(root, ['copy', '-q', 'berth:img', `oci-archive:${join(tmp.path, 'copy.tar')}`, '--digestfile', digest]));
    assert.equal(copy.r.code, 0, copy.r.stderr);
    assert.match(copy.read.toString(), /^sha256:[0-9a-f]{64}$/);
    assert.ok(lstatSync(digest).isFIFO());

    const archive = join(tmp.path, 'archive.fifo');
    mkfifo(archive);
    const toFifo = await intoFifo(archive, () => berth(root, ['copy', '-q', 'berth:img', `oci-archive:${archive}`]));
    assert.equal(toFifo.r.code, 0, toFifo.r.stderr);
    assert.ok(toFifo.read.includes(Buffer.from('oci-layout')));
    assert.ok(lstatSync(archive).isFIFO());
  });
});
