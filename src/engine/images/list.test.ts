import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ImageRecord } from '../../store/images.js';
import { isBerthError } from '../../util/errors.js';
import { filterImages } from './list.js';

const record = (hex: string, names: string[], created: string): ImageRecord => ({
  id: `sha256:${hex.repeat(64)}`,
  names,
  digests: [],
  manifestDigest: `sha256:${hex.repeat(64)}`,
  manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  layers: [],
  layerBlobs: [],
  size: 0,
  created,
  added: created,
});

const a = record('a', ['docker.io/library/busybox:latest'], '2024-01-01T00:00:00Z');
const b = record('b', ['localhost/team/app:v1', '127.0.0.1:5000/team/app:v1'], '2024-01-02T00:00:00Z');
const c = record('c', [], '2024-01-03T00:00:00Z');
const labels: Record<string, Record<string, string>> = { [b.id]: { tier: 'web' }, [c.id]: { tier: 'db' } };
const labelsOf = async (i: ImageRecord) => labels[i.id] ?? {};
const ids = async (filters: string[]) => (await filterImages([a, b, c], filters, labelsOf)).map((i) => i.id[7]);

describe('the images a list keeps', { timeout: 10_000 }, () => {
  test('reference by whole name, familiar tail or glob; dangling; id prefix', async () => {
    assert.deepEqual(await ids(['reference=busybox']), ['a']);
    assert.deepEqual(await ids(['reference=team/*']), ['b']);
    assert.deepEqual(await ids(['reference=app:v1']), ['b']);
    assert.deepEqual(await ids(['dangling=true']), ['c']);
    assert.deepEqual(await ids(['dangling=false']), ['a', 'b']);
    assert.deepEqual(await ids(['id=bbbb']), ['b']);
  });

  test('label with or without a value; before and since another image; all filters at once', async () => {
    assert.deepEqual(await ids(['label=tier']), ['b', 'c']);
    assert.deepEqual(await ids(['label=tier=db']), ['c']);
    assert.deepEqual(await ids(['before=app:v1']), ['a']);
    assert.deepEqual(await ids(['since=busybox']), ['b', 'c']);
    assert.deepEqual(await ids(['since=busybox', 'label=tier=web']), ['b']);
  });

  test('a malformed or unknown filter is a usage error; an unknown image in before= is unknown', async () => {
    for (const bad of ['nokey', 'color=red', 'dangling=maybe']) {
      await assert.rejects(ids([bad]), (e: unknown) => isBerthError(e, 'USAGE'));
    }
    await assert.rejects(ids(['before=nothing']), (e: unknown) => isBerthError(e, 'IMAGE_UNKNOWN'));
  });
});
