import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isBerthError } from '../util/errors.js';
import { extractTar, looksLikeTar, openTarStream, type ExtractOptions } from './extract.js';
import { needsRoot, streamOf, tarOf, tempDir } from './_testing.js';

describe('extractTar', { skip: needsRoot, timeout: 60_000 }, () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => ({ dir: base, cleanup } = await tempDir('berth-extract-')));
  after(() => cleanup());

  /** A fresh destination; relative paths resolve plainly under it (the caller's job in real use). */
  async function dest(): Promise<{ dir: string; opts: ExtractOptions }> {
    const dir = join(base, `d${n++}`);
    await mkdir(dir);
    const resolveDir = async (rel: string) => ((await stat(join(dir, rel)).catch(() => undefined))?.isDirectory() ? join(dir, rel) : undefined);
    return { dir, opts: { resolveDir, overwrite: false, display: (rel) => `/${rel}` } };
  }

  it('merges into existing directories, replaces files, makes missing parents, keeps hard links', async () => {
    const { dir, opts } = await dest();
    await mkdir(join(dir, 'keep'));
    await writeFile(join(dir, 'keep', 'old'), 'old');
    await writeFile(join(dir, 'file'), 'before');
    const tar = await tarOf([
      { name: 'keep/', type: 'directory', mode: 0o700 },
      { name: 'keep/new', content: 'new', uid: 12, gid: 34 },
      { name: 'file', content: 'after' },
      { name: 'deep/er/f', content: 'f' },
      { name: 'deep/er/hl', type: 'link', linkname: 'deep/er/f' },
    ]);
    await extractTar(streamOf(tar), opts);
    assert.deepEqual((await readdir(join(dir, 'keep'))).sort(), ['new', 'old']);
    assert.equal((await stat(join(dir, 'keep'))).mode & 0o777, 0o755, 'an existing directory keeps its mode');
    assert.equal(await readFile(join(dir, 'file'), 'utf8'), 'after');
    const st = await stat(join(dir, 'keep', 'new'));
    assert.deepEqual([st.uid, st.gid], [12, 34]);
    assert.equal((await stat(join(dir, 'deep', 'er', 'hl'))).ino, (await stat(join(dir, 'deep', 'er', 'f'))).ino);
  });

  it('gives everything the owner asked for, and renames as told', async () => {
    const { dir, opts } = await dest();
    const tar = await tarOf([
      { name: 'src/', type: 'directory' },
      { name: 'src/a', content: 'a', uid: 5, gid: 6 },
      { name: 'other', content: 'x' },
    ]);
    await extractTar(streamOf(tar), {
      ...opts,
      owner: { uid: 1000, gid: 1001 },
      rename: (rel) => (rel === 'src' || rel.startsWith('src/') ? `dst${rel.slice(3)}` : undefined),
    });
    assert.deepEqual(await readdir(dir), ['dst']);
    const st = await stat(join(dir, 'dst', 'a'));
    assert.deepEqual([st.uid, st.gid], [1000, 1001]);
  });

  it('replaces a symlink in the way instead of writing through it, and refuses a directory over one', async () => {
    const { dir, opts } = await dest();
    const outside = join(base, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'target'), 'untouched');
    await symlink(join(outside, 'target'), join(dir, 'f'));
    await symlink(outside, join(dir, 'd'));
    await extractTar(streamOf(await tarOf([{ name: 'f', content: 'mine' }])), opts);
    assert.equal((await lstat(join(dir, 'f'))).isFile(), true);
    assert.equal(await readFile(join(outside, 'target'), 'utf8'), 'untouched');
    await assert.rejects(
      extractTar(
        streamOf(
          await tarOf([
            { name: 'd/', type: 'directory' },
            { name: 'd/x', content: 'x' },
          ]),
        ),
        opts,
      ),
      (e) => isBerthError(e) && /error creating "\/d": mkdir \/d: file exists/.test(e.message),
    );
    assert.deepEqual(await readdir(outside), ['target']);
    assert.equal(await readlink(join(dir, 'd')), outside);
  });

  it('refuses names that climb out', async () => {
    const { opts } = await dest();
    await assert.rejects(extractTar(streamOf(await tarOf([{ name: '../escape', content: 'x' }])), opts), (e) => isBerthError(e, 'PATH_ESCAPE'));
    assert.equal(await stat(join(base, 'escape')).catch(() => undefined), undefined);
  });

  it('replaces a directory by a file only with overwrite', async () => {
    const { dir, opts } = await dest();
    await mkdir(join(dir, 'foo', 'sub'), { recursive: true });
    const tar = await tarOf([{ name: 'foo', content: 'file' }]);
    await assert.rejects(extractTar(streamOf(tar), opts), /error creating "\/foo": open \/foo: file exists/);
    await extractTar(streamOf(tar), { ...opts, overwrite: true });
    assert.equal(await readFile(join(dir, 'foo'), 'utf8'), 'file');
  });
});

describe('openTarStream', { timeout: 30_000 }, () => {
  it('sees a tar through gzip, and text as no tar', async () => {
    const tar = await tarOf([{ name: 'a', content: 'a' }]);
    assert.equal((await openTarStream(streamOf(gzipSync(tar)))).isTar, true);
    assert.equal((await openTarStream(streamOf(Buffer.from('hello\n')))).isTar, false);
    assert.equal(looksLikeTar(Buffer.alloc(512)), false);
  });
});
