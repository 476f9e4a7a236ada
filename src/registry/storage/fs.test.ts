import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { digestOf } from '../../oci/digest.js';
import { openFsStorage } from './fs.js';
import { failingStream, storageSuite } from './storage.case.js';

storageSuite('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-fs-'));
  return { storage: await openFsStorage(dir), dispose: () => rm(dir, { recursive: true, force: true }) };
});

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

it('filesystem storage: an upload that fails midway leaves nothing under blobs/', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-fs-'));
  try {
    const s = await openFsStorage(dir);
    const u = await s.uploads.create('r');
    await assert.rejects(s.uploads.append('r', u.id, 0, failingStream(Buffer.alloc(64 * 1024, 1))));
    assert.deepEqual(await files(join(dir, 'blobs')), []);
    await s.uploads.cancel('r', u.id);
    assert.deepEqual(await readdir(join(dir, 'uploads')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('filesystem storage: opening removes stale temp files and keeps fresh ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-fs-'));
  try {
    const s = await openFsStorage(dir);
    const cfg = digestOf('{}');
    await s.manifests.put('r', Buffer.from('{}'), 'application/vnd.oci.image.manifest.v1+json');
    assert.ok(await s.blobs.stat(cfg));
    await writeFile(join(dir, 'tmp', 'stale'), 'x');
    await writeFile(join(dir, 'tmp', 'fresh'), 'x');
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(join(dir, 'tmp', 'stale'), old, old);
    await openFsStorage(dir);
    assert.deepEqual(await readdir(join(dir, 'tmp')), ['fresh']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
