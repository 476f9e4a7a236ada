import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ImageRecord } from '../../engine/index.js';
import { familiarName, imageHistory, imageInspect, imageSummary, repoDigestsOf, type ImageConfig } from './image-json.js';

const hex = (c: string) => c.repeat(64);
const image: ImageRecord = {
  id: `sha256:${hex('a')}`,
  names: ['docker.io/library/busybox:latest', 'localhost/app:v1', '127.0.0.1:5000/team/app:2'],
  digests: [`sha256:${hex('d')}`],
  manifestDigest: `sha256:${hex('d')}`,
  manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  layers: [`sha256:${hex('1')}`, `sha256:${hex('2')}`],
  layerBlobs: [`sha256:${hex('3')}`, `sha256:${hex('4')}`],
  size: 1234,
  created: '2024-01-02T03:04:05Z',
  added: '2024-01-03T00:00:00Z',
};
const config: ImageConfig = {
  created: '2024-01-02T03:04:05.5Z',
  architecture: 'amd64',
  os: 'linux',
  config: { Cmd: ['sh'], Env: ['PATH=/bin'], Labels: { a: 'b' } },
  rootfs: { type: 'layers', diff_ids: [`sha256:${hex('5')}`, `sha256:${hex('6')}`] },
  history: [
    { created: '2024-01-01T00:00:00Z', created_by: 'ADD file in /' },
    { created: '2024-01-01T00:00:01Z', created_by: 'ENV PATH=/bin', empty_layer: true },
    { created: '2024-01-02T03:04:05Z', created_by: 'RUN make', comment: 'built' },
  ],
};

describe('images in Docker’s shapes', { timeout: 10_000 }, () => {
  test('names as dockerd shows them: Docker Hub and localhost/ familiar, other registries whole', () => {
    assert.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
    assert.equal(familiarName('docker.io/someone/tool:1'), 'someone/tool:1');
    assert.equal(familiarName('localhost/app:v1'), 'app:v1');
    assert.equal(familiarName('127.0.0.1:5000/team/app:2'), '127.0.0.1:5000/team/app:2');
    assert.equal(familiarName('quay.io/library/x:1'), 'quay.io/library/x:1');
    assert.deepEqual(repoDigestsOf({ ...image, names: ['docker.io/library/busybox:latest', '127.0.0.1:5000/team/app:2'] }), [
      `busybox@sha256:${hex('d')}`,
      `127.0.0.1:5000/team/app@sha256:${hex('d')}`,
    ]);
  });

  test('the list’s summary: unix seconds, -1 for what is not counted, VirtualSize only before 1.44', () => {
    const s = imageSummary(image, config, '1.43');
    assert.equal(s.Id, image.id);
    assert.deepEqual(s.RepoTags, ['busybox:latest', 'app:v1', '127.0.0.1:5000/team/app:2']);
    assert.equal(s.Created, Date.parse('2024-01-02T03:04:05Z') / 1000);
    assert.equal(s.SharedSize, -1);
    assert.equal(s.Containers, -1);
    assert.equal(s.VirtualSize, 1234);
    assert.deepEqual(s.Labels, { a: 'b' });
    assert.equal(imageSummary(image, { ...config, config: {} }, '1.47').Labels, null, 'Go marshals a nil map as null');
    const dangling = imageSummary({ ...image, names: [] }, config, '1.47');
    assert.deepEqual([dangling.RepoTags, dangling.RepoDigests], [['<none>:<none>'], ['<none>@<none>']]);
    const counted = imageSummary(image, config, '1.47', { containers: 2, sharedSize: 10 });
    assert.equal(counted.VirtualSize, undefined);
    assert.equal(counted.Containers, 2);
    assert.equal(counted.SharedSize, 10);
  });

  test('inspect: the config with Docker’s zero values, RootFS, the graph driver', () => {
    const i = imageInspect(image, config, '1.47', { UpperDir: '/u' });
    assert.equal(i.Id, image.id);
    assert.equal(i.Created, '2024-01-02T03:04:05.5Z');
    assert.equal(i.Comment, 'built');
    const c = i.Config as Record<string, unknown>;
    assert.deepEqual(c.Cmd, ['sh']);
    assert.equal(c.Entrypoint, null);
    assert.equal(c.WorkingDir, '');
    assert.equal(c.Tty, false);
    assert.deepEqual(i.RootFS, { Type: 'layers', Layers: config.rootfs.diff_ids });
    assert.deepEqual(i.GraphDriver, { Name: 'overlay2', Data: { UpperDir: '/u' } });
    assert.equal(i.ContainerConfig, undefined, 'gone in API 1.45');
    assert.ok(imageInspect(image, config, '1.41', {}).ContainerConfig);
    assert.equal(imageInspect(image, config, '1.41', {}).VirtualSize, 1234);
  });

  test('history: newest first, the ID and tags on the newest only, sizes by layer, 0 for empty layers', () => {
    const sizes: Record<string, number> = { [`sha256:${hex('1')}`]: 100, [`sha256:${hex('2')}`]: 7 };
    const h = imageHistory(image, config, (chain) => sizes[chain] ?? -1);
    assert.deepEqual(
      h.map((e) => [e.Id, e.CreatedBy, e.Size, e.Tags]),
      [
        [image.id, 'RUN make', 7, ['busybox:latest', 'app:v1', '127.0.0.1:5000/team/app:2']],
        ['<missing>', 'ENV PATH=/bin', 0, null],
        ['<missing>', 'ADD file in /', 100, null],
      ],
    );
    assert.equal(h[0]!.Created, Date.parse('2024-01-02T03:04:05Z') / 1000);
    assert.equal(h[0]!.Comment, 'built');
  });
});
