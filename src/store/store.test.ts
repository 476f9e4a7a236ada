import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { tempDir } from '../testing/cli.js';
import { BerthError } from '../util/errors.js';
import { DirLock } from '../util/lock.js';
import { processToken } from '../util/process.js';
import { Store } from './store.js';

describe('store', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('stores a blob once, verified, and keeps nothing when the digest is wrong', async () => {
    const store = await Store.open({ root: join(tmp.path, 'a') });
    const data = Buffer.from('hello blob');
    const digest = digestOf(data);
    assert.deepEqual(await store.blobs.put(Readable.from([data]), { digest }), { digest, size: data.length });
    assert.deepEqual(await store.blobs.put(Readable.from([data]), { digest }), { digest, size: data.length });
    assert.equal((await store.blobs.read(digest)).toString(), 'hello blob');
    const wrong = digestOf('something else');
    await assert.rejects(store.blobs.put(Readable.from([data]), { digest: wrong }), (e: unknown) => e instanceof BerthError && e.code === 'DIGEST_MISMATCH');
    assert.equal(await store.blobs.has(wrong), false);
    await assert.rejects(store.blobs.put(Readable.from([data]), { digest, size: 3 }), (e: unknown) => e instanceof BerthError && e.code === 'SIZE_MISMATCH');
    await store.close();
    assert.deepEqual(readdirSync(join(tmp.path, 'a', 'tmp')), []);
  });

  it('stores a blob of many MiB and of text chunks byte for byte', async () => {
    const store = await Store.open({ root: join(tmp.path, 'big') });
    // Past receiveInto's 1 MiB writes and its 32 MiB background sync, in uneven pieces.
    const pieces = Array.from({ length: 70 }, (_, i) => Buffer.alloc(500_000 + i * 7, i));
    const whole = Buffer.concat(pieces);
    const digest = digestOf(whole);
    assert.deepEqual(await store.blobs.put(Readable.from(pieces), { digest }), { digest, size: whole.length });
    assert.ok((await store.blobs.read(digest)).equals(whole));
    // An object-mode stream of strings (Readable.from of text) is stored as their UTF-8 bytes.
    const text = digestOf('héllo wörld');
    assert.deepEqual(await store.blobs.put(Readable.from(['héllo ', 'wörld'])), { digest: text, size: Buffer.byteLength('héllo wörld') });
    await store.close();
    assert.deepEqual(readdirSync(join(tmp.path, 'big', 'tmp')), []);
  });

  it('trusts a verifying source for the digest, but keeps nothing when that source fails at its end', async () => {
    const store = await Store.open({ root: join(tmp.path, 'v') });
    const data = Buffer.from('downloaded layer bytes');
    const digest = digestOf(data);
    // A source that checks its own digest, as a registry download does: its bytes, then its verdict.
    const source = (verdict: Error | undefined) =>
      Readable.from(
        (async function* () {
          yield data;
          if (verdict) throw verdict;
        })(),
      );
    const bad = new BerthError('DIGEST_MISMATCH', 'the blob does not match its digest');
    await assert.rejects(store.blobs.put(source(bad), { digest, size: data.length, verifiedBySource: true }), (e: unknown) => e === bad);
    assert.equal(await store.blobs.has(digest), false);
    assert.deepEqual(await store.blobs.put(source(undefined), { digest, size: data.length, verifiedBySource: true }), { digest, size: data.length });
    assert.deepEqual(await store.blobs.read(digest), data);
    // The size is still checked by the store.
    const other = digestOf('other');
    await assert.rejects(
      store.blobs.put(source(undefined), { digest: other, size: 3, verifiedBySource: true }),
      (e: unknown) => e instanceof BerthError && e.code === 'SIZE_MISMATCH',
    );
    assert.equal(await store.blobs.has(other), false);
    await store.close();
    assert.deepEqual(readdirSync(join(tmp.path, 'v', 'tmp')), []);
  });

  it('accepts sha512 digests', async () => {
    const store = await Store.open({ root: join(tmp.path, 'b') });
    const data = Buffer.from('sha512 content');
    const digest = digestOf(data, 'sha512');
    await store.blobs.put(Readable.from([data]), { digest });
    assert.ok(existsSync(join(tmp.path, 'b', 'blobs', 'sha512', digest.slice(7))));
    await store.close();
  });

  it('sweeps temp space of dead processes on open, and leaves live ones alone', async () => {
    const root = join(tmp.path, 'c');
    const dead = join(root, 'tmp', '999999-1');
    mkdirSync(dead, { recursive: true });
    writeFileSync(join(dead, 'half-written-blob'), 'x');
    const live = join(root, 'tmp', processToken());
    mkdirSync(live, { recursive: true });
    const store = await Store.open({ root });
    assert.equal(existsSync(dead), false);
    assert.equal(existsSync(live), true);
    await store.close();
  });

  it('lock: excludes a second holder and breaks a lock left by a dead process', async () => {
    const path = join(tmp.path, 'lock');
    const a = new DirLock(path);
    const b = new DirLock(path);
    await a.acquire();
    let bGot = false;
    const waiting = b.acquire().then(() => {
      bGot = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(bGot, false);
    await a.release();
    await waiting;
    assert.equal(bGot, true);
    await b.release();

    // A process that takes the lock and is killed with -9.
    const script = `const fs=require('fs');fs.mkdirSync(${JSON.stringify(path)});const st=fs.readFileSync('/proc/self/stat','utf8');fs.writeFileSync(${JSON.stringify(path)}+'/owner', process.pid+'-'+st.slice(st.lastIndexOf(')')+2).split(' ')[19]);process.kill(process.pid,'SIGKILL')`;
    spawnSync(process.execPath, ['-e', script]);
    assert.ok(existsSync(path));
    const c = new DirLock(path);
    await c.acquire(5000);
    await c.release();
    assert.equal(existsSync(path), false);
  });
});
