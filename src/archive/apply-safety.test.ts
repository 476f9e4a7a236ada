import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { isBerthError, type ErrorCode } from '../util/errors.js';
import { applyLayer } from './apply.js';
import { autoDecompress, compressStream } from './compression.js';
import { childrenNamed, needsRoot, streamOf, tarOf, tempDir, xattrsOf, type TestEntry } from './_testing.js';

describe('applyLayer safety', { skip: needsRoot }, () => {
  let base: string;
  let outside: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => {
    ({ dir: base, cleanup } = await tempDir());
    outside = join(base, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'passwd'), 'secret');
  });
  after(() => cleanup());

  /** Layers go two levels below `base`, so "../../x" would land in `base`. */
  async function layerDir(): Promise<string> {
    const dir = join(base, 'layers', `l${n++}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async function outsideUntouched(): Promise<void> {
    assert.deepEqual(await readdir(outside), ['passwd']);
    assert.equal(await readFile(join(outside, 'passwd'), 'utf8'), 'secret');
    assert.deepEqual(xattrsOf(outside), {});
    assert.deepEqual((await readdir(base)).sort(), ['layers', 'outside']);
    assert.deepEqual(
      (await readdir(join(base, 'layers'))).filter((x) => !x.startsWith('l')),
      [],
    );
  }

  async function refused(entries: TestEntry[] | Buffer, code: ErrorCode, message: RegExp): Promise<string> {
    const tar = Buffer.isBuffer(entries) ? entries : await tarOf(entries);
    const dir = await layerDir();
    await assert.rejects(applyLayer(streamOf(tar), dir), (e: unknown) => {
      assert.ok(isBerthError(e, code), `expected ${code}, got ${String(e)}`);
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
    await outsideUntouched();
    return dir;
  }

  it('refuses names that climb out', async () => {
    await refused([{ name: '../x', content: 'x' }], 'PATH_ESCAPE', /^layer entry "\.\.\/x" escapes the layer root$/);
    await refused([{ name: 'a/../../x', content: 'x' }], 'PATH_ESCAPE', /escapes the layer root/);
    await refused(
      [
        { name: 'ok', content: 'x' },
        { name: '../../outside/passwd', content: 'pwned' },
      ],
      'PATH_ESCAPE',
      /escapes/,
    );
    // a long name goes into a PAX path record
    await refused([{ name: `${'a/'.repeat(60)}${'../'.repeat(61)}x`, content: 'x' }], 'PATH_ESCAPE', /escapes/);
    // ".." that stays inside is fine
    const dir = await layerDir();
    await applyLayer(streamOf(await tarOf([{ name: 'a/../b', content: 'b' }])), dir);
    assert.equal(await readFile(join(dir, 'b'), 'utf8'), 'b');
  });

  it('refuses absolute names, as the raw header gives them', async () => {
    const tar = await tarOf([{ name: '/abs', content: 'x' }]);
    assert.equal(tar.toString('latin1', 0, 5), '/abs\0'); // tar-stream keeps the leading slash
    await refused(tar, 'PATH_ESCAPE', /^layer entry "\/abs" is an absolute path$/);
  });

  it('never writes through a symlink', async () => {
    await refused(
      [
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'l/passwd', content: 'pwned' },
      ],
      'PATH_ESCAPE',
      /^layer entry "l\/passwd" goes through the symlink "l"$/,
    );
    await refused(
      [
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'l/new/deeper', content: 'x' },
      ],
      'PATH_ESCAPE',
      /symlink "l"/,
    );
    // even one pointing inside the layer
    await refused(
      [
        { name: 'd/', type: 'directory' },
        { name: 'l', type: 'symlink', linkname: 'd' },
        { name: 'l/f', content: 'x' },
      ],
      'PATH_ESCAPE',
      /symlink/,
    );
    // nor whiteouts or opaque markers through one
    await refused(
      [
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'l/.wh.passwd', content: '' },
      ],
      'PATH_ESCAPE',
      /symlink/,
    );
    await refused(
      [
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'l/.wh..wh..opq', content: '' },
      ],
      'PATH_ESCAPE',
      /symlink/,
    );
    await refused(
      [
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'l/dir/', type: 'directory' },
      ],
      'PATH_ESCAPE',
      /symlink/,
    );
  });

  it('refuses hard links to outside or to what is not earlier in the layer', async () => {
    await refused(
      [{ name: 'h', type: 'link', linkname: '../../outside/passwd' }],
      'PATH_ESCAPE',
      /^layer entry "h" is a hard link to "\.\.\/\.\.\/outside\/passwd", outside the layer root$/,
    );
    await refused([{ name: 'h', type: 'link', linkname: join(outside, 'passwd') }], 'PATH_ESCAPE', /hard link to the absolute path/);
    await refused(
      [
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'h', type: 'link', linkname: 'l/passwd' },
      ],
      'LAYER_INVALID',
      /is a hard link to "l\/passwd", which is not earlier in the layer$/,
    );
    await refused(
      [
        { name: 'h', type: 'link', linkname: 'later' },
        { name: 'later', content: 'x' },
      ],
      'LAYER_INVALID',
      /not earlier/,
    );
    await refused(
      [
        { name: 'd/', type: 'directory' },
        { name: 'h', type: 'link', linkname: 'd' },
      ],
      'LAYER_INVALID',
      /hard link to the directory/,
    );
  });

  it('refuses relative symlinks that climb above the root, but not absolute ones', async () => {
    await refused(
      [{ name: 'a/l', type: 'symlink', linkname: '../../outside' }],
      'PATH_ESCAPE',
      /^layer entry "a\/l" is a symlink to "\.\.\/\.\.\/outside", which climbs above the layer root$/,
    );
    await refused([{ name: 'l', type: 'symlink', linkname: '..' }], 'PATH_ESCAPE', /climbs above/);
    const dir = await layerDir();
    await applyLayer(
      streamOf(
        await tarOf([
          { name: 'a/b/up', type: 'symlink', linkname: '../../etc/passwd' },
          { name: 'abs', type: 'symlink', linkname: '/../../etc/shadow' },
          { name: 'dot', type: 'symlink', linkname: './a/../a' },
        ]),
      ),
      dir,
    );
    assert.equal(await readlink(join(dir, 'a/b/up')), '../../etc/passwd');
    assert.equal(await readlink(join(dir, 'abs')), '/../../etc/shadow');
  });

  it('does not apply pending devices or xattrs through a directory later replaced by a symlink', async () => {
    const dir = await layerDir();
    await applyLayer(
      streamOf(
        await tarOf([
          { name: 'd/passwd', content: 'x', pax: { 'SCHILY.xattr.user.evil': '1' } },
          { name: 'd/.wh..wh..opq', content: '' },
          { name: 'd/null', type: 'character-device', devmajor: 1, devminor: 3 },
          { name: 'd/.wh.gone', content: '' },
          { name: 'd', type: 'symlink', linkname: outside },
        ]),
      ),
      dir,
    );
    assert.equal(await readlink(join(dir, 'd')), outside);
    await outsideUntouched();
  });

  it('rejects corrupt and truncated tars', async () => {
    const good = await tarOf([
      { name: 'a', content: 'a'.repeat(3000) },
      { name: 'b', content: 'b' },
    ]);
    const corrupt = Buffer.from(good);
    corrupt[3584 + 10] = corrupt[3584 + 10]! ^ 0xff; // inside the header of "b" (512 + 3000 padded to 3072)
    await refused(corrupt, 'LAYER_INVALID', /^invalid layer tar: bad header checksum at offset 3584/);
    await refused(good.subarray(0, 2000), 'LAYER_INVALID', /truncated/);
    await refused(good.subarray(0, 300), 'LAYER_INVALID', /truncated/);
    await refused(randomBytes(10_000), 'LAYER_INVALID', /^invalid layer tar/);
    await refused(Buffer.from('{"not": "a tar"}'), 'LAYER_INVALID', /truncated/);
  });

  it('surfaces a decompression error and leaves no zstd process behind', async () => {
    const tar = await tarOf([{ name: 'big', content: randomBytes(4 << 20) }]);
    const c = compressStream('zstd');
    const chunks: Buffer[] = [];
    const done = (async () => {
      for await (const chunk of c) chunks.push(chunk as Buffer);
    })();
    c.end(tar);
    await done;
    const zst = Buffer.concat(chunks);
    zst.fill(0x42, zst.length >> 1, (zst.length >> 1) + 1000);
    const dir = await layerDir();
    await assert.rejects(applyLayer(await autoDecompress(streamOf(zst)), dir), (e: unknown) => isBerthError(e, 'ARCHIVE_INVALID') && /^zstd/.test(e.message));
    await noZstd();
  });

  it('kills the decompressor when it rejects early', async () => {
    // An escaping entry first, then megabytes that zstd is still busy decompressing.
    const tar = await tarOf([
      { name: '../x', content: 'x' },
      { name: 'big', content: randomBytes(16 << 20) },
    ]);
    const c = compressStream('zstd', 1);
    const compressed = Readable.from(
      (async function* () {
        c.end(tar);
        for await (const chunk of c) yield chunk as Buffer;
      })(),
      { objectMode: false },
    );
    const dir = await layerDir();
    await assert.rejects(applyLayer(await autoDecompress(compressed), dir), (e: unknown) => isBerthError(e, 'PATH_ESCAPE'));
    await noZstd();
    await assert.rejects(lstat(join(base, 'layers', 'x')));
  });
});

async function noZstd(): Promise<void> {
  for (let i = 0; i < 100 && childrenNamed('zstd').length > 0; i++) await sleep(20);
  assert.deepEqual(childrenNamed('zstd'), []);
}
