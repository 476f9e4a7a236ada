import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { fixture } from '../testing/fixtures.js';
import { BerthError } from '../util/errors.js';
import { readDockerArchive } from './docker-archive.js';
import { DirectoryFiles, TarFiles } from './files.js';
import { readOciLayout } from './oci-layout.js';

describe('reading archives written by others', () => {
  it('a real `docker save` archive (legacy layout with <id>/layer.tar links)', async () => {
    const files = await TarFiles.open(fixture('containers-image', 'docker', 'archive', 'fixtures', 'almostempty.tar'));
    const [named, ...rest] = await readDockerArchive(files);
    assert.equal(rest.length, 0);
    assert.deepEqual(named!.names, ['docker.io/library/emptyimage:latest']);
    const { image } = named!;
    assert.equal(image.config.digest, digestOf(image.config.bytes));
    assert.equal(image.layers.length, 1);
    const layer = image.layers[0]!;
    // an uncompressed docker-archive layer is its own diff ID
    assert.equal(layer.digest, layer.diffID);
    const chunks: Buffer[] = [];
    for await (const c of await layer.blob()) chunks.push(c as Buffer);
    assert.equal(digestOf(Buffer.concat(chunks)), layer.diffID);
    const manifest = JSON.parse(image.manifest.bytes.toString()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    assert.equal(manifest.config.digest, image.config.digest);
    assert.equal(manifest.layers[0]!.size, layer.size);
  });

  it('an OCI layout with several refs and a nested index, by ref name', async () => {
    const files = new DirectoryFiles(fixture('containers-image', 'oci', 'layout', 'fixtures', 'delete_image_multiple_images'));
    const all = await readOciLayout(files, { platform: { os: 'linux', architecture: 'amd64' } });
    assert.equal(all.length, 7);
    const [latest] = await readOciLayout(files, { only: 'latest', platform: { os: 'linux', architecture: 'amd64' } });
    // the index's linux/amd64 instance is the manifest also tagged "3.18"
    assert.equal(latest!.image.manifest.digest, 'sha256:93cbd11a4f41467a0409b975499ae711bc6f8222de38d9f1b5a4097583195ad5');
    assert.equal(latest!.image.index?.digest, 'sha256:a2f798327b3f25e3eff54badcb769953de235e62e3e32051d57a5e66246de4a1');
    // bare tags name no repository: such images load untagged
    assert.deepEqual(latest!.names, []);
    const [older] = await readOciLayout(files, { only: '3.17.5' });
    assert.equal(older!.image.config.digest, 'sha256:df11bc189adeb50dadb3291a3a7f2c34b36e0efdba0df70f2c8a2d761b215cde');
    await assert.rejects(readOciLayout(files, { only: 'nope' }), (e: unknown) => e instanceof BerthError && /no image named "nope"/.test(e.message));
  });
});
