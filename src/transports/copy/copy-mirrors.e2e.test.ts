import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import type { ImageIndex } from '../../oci/manifest.js';
import { berth, tempDir } from '../../testing/cli.js';
import { FaultRegistry, makeTestImage } from '../../testing/fault-registry.js';

it('berth copy reads a docker:// source through the mirror registries.conf names, as pull does', { timeout: 120_000 }, async () => {
  const tmp = tempDir();
  const reg = await new FaultRegistry().start();
  try {
    const image = await makeTestImage('team/app', '1', [2048, 4096]);
    reg.add(image);
    const conf = join(tmp.path, 'registries.conf');
    // mirror.invalid does not resolve: only its mirror, the fault registry, can answer.
    await writeFile(conf, `[[registry]]\nlocation = "mirror.invalid"\n[[registry.mirror]]\nlocation = "${reg.host}"\ninsecure = true\n`);
    const out = join(tmp.path, 'layout');
    const r = await berth(join(tmp.path, 'root'), ['copy', '-q', 'docker://mirror.invalid/team/app:1', `oci:${out}:app`], {
      env: { CONTAINERS_REGISTRIES_CONF: conf },
    });
    assert.equal(r.code, 0, r.stderr);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as ImageIndex;
    assert.equal(index.manifests[0]?.digest, image.manifestDigest);
    assert.ok(
      reg.log.some((l) => l.path === `/v2/team/app/manifests/1`),
      'the mirror was asked',
    );
  } finally {
    await reg.stop();
    tmp.cleanup();
  }
});
