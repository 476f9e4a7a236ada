import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { FileCache, isCurrent } from './file-cache.js';

/** The descriptors this process holds open on `path`. */
function heldOpen(path: string): number {
  const target = (fd: string) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return ''; // the directory's own descriptor, closed by now
    }
  };
  return readdirSync('/proc/self/fd').filter((fd) => target(fd) === path).length;
}

/** A parse that counts its calls. */
function counting() {
  const parse = (text: string | undefined) => {
    parse.calls++;
    return text ?? '(none)';
  };
  parse.calls = 0;
  return parse;
}

/** Replaces the file by rename, as writeFileAtomic does. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

describe('FileCache', { timeout: 30_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('parses a file once while it is unchanged, and again once it is replaced, appended to or removed', async () => {
    const path = join(tmp.path, 'a.json');
    const cache = new FileCache(true);
    const parse = counting();
    assert.equal(await cache.read(path, parse), '(none)');
    assert.equal(await cache.read(path, parse), '(none)');
    assert.equal(parse.calls, 1, 'an absent file is remembered as absent');
    writeFileSync(path, 'one');
    assert.equal(await cache.read(path, parse), 'one', 'a file that appeared is read');
    assert.equal(await cache.read(path, parse), 'one');
    assert.equal(parse.calls, 2);
    replace(path, 'two');
    assert.equal(await cache.read(path, parse), 'two', 'a replaced file of the same size is read');
    appendFileSync(path, '+three');
    assert.equal(await cache.read(path, parse), 'two+three', 'an append in place is read');
    rmSync(path);
    assert.equal(await cache.read(path, parse), '(none)', 'a removed file is seen');
    assert.equal(parse.calls, 5);
    await cache.close();
  });

  it('sees every replacement however fast they come, with the same size, the same mtime and reused inode numbers', async () => {
    const path = join(tmp.path, 'fast.json');
    const cache = new FileCache(true);
    const parse = (t: string | undefined) => t;
    replace(path, 'v000');
    const mtime = statSync(path).mtime;
    for (let i = 1; i <= 300; i++) {
      const text = `v${String(i).padStart(3, '0')}`;
      // Two replacements between reads: the second file may get the inode number the file last
      // read had, were that freed; and the old mtime put back (same size too) hides nothing either.
      replace(path, 'tmp!');
      replace(path, text);
      utimesSync(path, mtime, mtime);
      assert.equal(await cache.read(path, parse), text);
    }
    assert.equal(heldOpen(path), 1, 'only the file last read is held open');
    await cache.close();
    assert.equal(heldOpen(path), 0, 'close lets go of it');
  });

  it('without caching, reads every time and holds nothing open', async () => {
    const path = join(tmp.path, 'plain.json');
    writeFileSync(path, 'x');
    const cache = new FileCache(false);
    const parse = counting();
    assert.equal(await cache.read(path, parse), 'x');
    assert.equal(await cache.read(path, parse), 'x');
    assert.equal(parse.calls, 2);
    assert.equal(heldOpen(path), 0);
  });

  it('a different parse of the same path is not served what another parse made', async () => {
    const path = join(tmp.path, 'two-parses.json');
    writeFileSync(path, 'abc');
    const cache = new FileCache(true);
    assert.equal(await cache.read(path, (t) => t), 'abc');
    assert.equal(await cache.read(path, (t) => t?.length), 3);
    await cache.close();
  });

  it('isCurrent: the same device, inode, size, mtime and ctime, or absent then and now', () => {
    const path = join(tmp.path, 'stat.json');
    writeFileSync(path, 'abc');
    const stat = statSync(path, { bigint: true });
    const file = { fd: -1, stat };
    assert.equal(isCurrent({}, undefined), true);
    assert.equal(isCurrent({}, stat), false);
    assert.equal(isCurrent({ file }, undefined), false);
    assert.equal(isCurrent({ file }, statSync(path, { bigint: true })), true);
    const changed = (field: 'dev' | 'ino' | 'size' | 'mtimeNs' | 'ctimeNs') => {
      const other = statSync(path, { bigint: true });
      Object.defineProperty(other, field, { value: (stat[field] as bigint) + 1n });
      return isCurrent({ file }, other);
    };
    for (const field of ['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'] as const) assert.equal(changed(field), false, field);
  });
});
