import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { parseRegistriesConf } from '../../config/registries.js';
import type { ImageIndex } from '../../oci/manifest.js';
import { parseNormalizedNamed } from '../../oci/reference.js';
import { findImage, storedName } from '../../store/lookup.js';
import { Store } from '../../store/store.js';
import { loadImages } from '../../engine/images/index.js';
import { FaultRegistry } from '../../testing/fault-registry.js';
import { isBerthError } from '../../util/errors.js';
import { REF_NAME } from '../oci-layout.js';
import { caseImage, copyCases, memoryDestination, type TransportUnderTest } from './copy.case.js';
import { copyImage } from './copy-image.js';
import { imageSource } from './image-source.js';
import { openDestination, openSource } from './open.js';
import type { TransportRef } from './reference.js';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const EMPTY_CONF = parseRegistriesConf('/dev/null', '');

/** A transport whose references are made from a name in a temp directory, opened through open.ts as `berth copy` does. */
function fileTransport(
  refOf: (dir: string, name: string) => TransportRef,
  visible: (dir: string, name: string) => Promise<boolean>,
): () => Promise<TransportUnderTest> {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-copy-t-'));
    const store = await Store.open({ root: join(dir, 'store') });
    let loads = 0;
    return {
      destination: (name) => openDestination(store, refOf(dir, name)),
      source: (name, o = {}) => openSource(store, refOf(dir, name), o.all ? { allPlatforms: true } : {}),
      visible: (name) => visible(dir, name),
      // `load` of the archive or layout into a store of its own.
      async loadAll(name) {
        const ref = refOf(dir, name);
        if (!('path' in ref)) throw new Error('not a file transport');
        const into = await Store.open({ root: join(dir, `loaded-${++loads}`) });
        try {
          return (await loadImages(into, ref.path)).map((r) => ({ id: r.id, names: r.names }));
        } finally {
          await into.close();
        }
      },
      dispose: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

async function layoutNames(dir: string): Promise<string[]> {
  try {
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
    return index.manifests.map((d) => d.annotations?.[REF_NAME] ?? '');
  } catch {
    return [];
  }
}

copyCases(
  'oci:',
  fileTransport(
    (dir, name) => ({ transport: 'oci', path: join(dir, 'layout'), name }),
    async (dir, name) => (await layoutNames(join(dir, 'layout'))).includes(name),
  ),
);

copyCases(
  'oci-archive:',
  fileTransport(
    (dir, name) => ({ transport: 'oci-archive', path: join(dir, `${name}.tar`), name }),
    (dir, name) => exists(join(dir, `${name}.tar`)),
  ),
);

copyCases(
  'docker-archive:',
  fileTransport(
    (dir, name) => ({ transport: 'docker-archive', path: join(dir, `${name}.tar`), name: `localhost/${name}:latest` }),
    (dir, name) => exists(join(dir, `${name}.tar`)),
  ),
);

copyCases(
  'dir:',
  fileTransport(
    (dir, name) => ({ transport: 'dir', path: join(dir, name) }),
    (dir, name) => exists(join(dir, name, 'manifest.json')),
  ),
);

copyCases('berth:', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-copy-t-'));
  const store = await Store.open({ root: join(dir, 'store') });
  const ref = (name: string): TransportRef => ({ transport: 'berth', name: `localhost/${name}` });
  return {
    destination: (name) => openDestination(store, ref(name)),
    source: (name) => openSource(store, ref(name)),
    visible: async (name) => findImage(await store.images(), storedName(`localhost/${name}`)) !== undefined,
    nothingOpen: async () => {
      // A failed copy took back what it had put: no blob is left that no image uses, beyond the images' own.
      const images = await store.images();
      const used = new Set(images.flatMap((i) => [i.id, i.manifestDigest, ...i.layerBlobs, ...(i.indexDigest ? [i.indexDigest] : [])]));
      const blobs = await store.allBlobs();
      assert.deepEqual(
        blobs.filter((b) => !used.has(b)),
        [],
      );
    },
    dispose: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** The fault registry's open connections (it tracks them to cut them in fault tests). */
function openSockets(reg: FaultRegistry): number {
  return (reg as unknown as { sockets: Set<unknown> }).sockets.size;
}

copyCases('docker://', async () => {
  const reg = await new FaultRegistry().start();
  const ref = (name: string): TransportRef => ({ transport: 'docker', ref: parseNormalizedNamed(`${reg.host}/case/${name}:1`) });
  return {
    destination: (name) => openDestination(new Proxy({}, {}) as Store, ref(name), { registry: { registriesConf: EMPTY_CONF } }),
    source: (name, o = {}) =>
      openSource(new Proxy({}, {}) as Store, ref(name), { registry: { registriesConf: EMPTY_CONF }, ...(o.all ? { allPlatforms: true } : {}) }),
    visible: async (name) => reg.tags.has(`case/${name}:1`),
    nothingOpen: async () => {
      // Every client was closed: the registry sees its connections go.
      for (let i = 0; i < 100 && openSockets(reg) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(openSockets(reg), 0, 'a registry connection was left open');
    },
    dispose: () => reg.stop(),
  };
});

it('a docker:// source is read through the mirror registries.conf names, as pull reads it', { timeout: 30_000 }, async () => {
  const reg = await new FaultRegistry().start();
  try {
    const image = await caseImage({ texts: ['mirrored'] });
    const conf = parseRegistriesConf('/dev/null', '');
    const up = await openDestination(
      new Proxy({}, {}) as Store,
      { transport: 'docker', ref: parseNormalizedNamed(`${reg.host}/mirror/app:1`) },
      { registry: { registriesConf: conf } },
    );
    try {
      await copyImage(imageSource('memory:', image), up, { tmpDir: async () => tmpdir() });
    } finally {
      await up.close();
    }
    // registry.invalid does not resolve: only its mirror can answer.
    const mirrored = parseRegistriesConf(
      '/dev/null',
      `[[registry]]\nlocation = "registry.invalid/mirror"\n[[registry.mirror]]\nlocation = "${reg.host}/mirror"\ninsecure = true\n`,
    );
    const src = await openSource(
      new Proxy({}, {}) as Store,
      { transport: 'docker', ref: parseNormalizedNamed('registry.invalid/mirror/app:1') },
      { registry: { registriesConf: mirrored } },
    );
    const sink = memoryDestination();
    try {
      assert.equal((await copyImage(src, sink, { tmpDir: async () => tmpdir() })).digest, image.manifest.digest);
    } finally {
      await src.close();
    }
    assert.deepEqual(sink.blobs.get(image.config.digest), image.config.bytes);
  } finally {
    await reg.stop();
  }
});

it('a blob a registry serves corrupted is refused by the copy (the source leaves the check to it), and nothing is written', { timeout: 30_000 }, async () => {
  const reg = await new FaultRegistry().start();
  const dir = await mkdtemp(join(tmpdir(), 'berth-copy-t-'));
  try {
    const image = await caseImage({ texts: ['served', 'corrupted'] });
    const conf = parseRegistriesConf('/dev/null', '');
    const ref: TransportRef = { transport: 'docker', ref: parseNormalizedNamed(`${reg.host}/bad/app:1`) };
    const noStore = new Proxy({}, {}) as Store;
    const up = await openDestination(noStore, ref, { registry: { registriesConf: conf } });
    try {
      await copyImage(imageSource('memory:', image), up, { tmpDir: async () => tmpdir() });
    } finally {
      await up.close();
    }
    const layer = image.layers[1]!;
    const real = reg.blobs.get(layer.digest)!;
    const bad = Buffer.from(real);
    bad[100] = bad[100]! ^ 0xff;
    reg.corrupt.set(layer.digest, bad);
    const src = await openSource(noStore, ref, { registry: { registriesConf: conf } });
    const dest = await openDestination(noStore, { transport: 'oci', path: join(dir, 'layout'), name: 'x' });
    try {
      await assert.rejects(copyImage(src, dest, { tmpDir: async () => tmpdir() }), (e) => isBerthError(e, 'DIGEST_MISMATCH') || assert.fail(String(e)));
    } finally {
      await dest.close();
      await src.close();
    }
    assert.equal(await exists(join(dir, 'layout', 'index.json')), false);
    assert.equal(await exists(join(dir, 'layout', 'blobs', 'sha256', layer.digest.slice(7))), false);
  } finally {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
