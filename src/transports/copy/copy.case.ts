// The behaviour every transport must have under copyImage(), as storage.case.ts is for registry storage. A
// transport's test calls copyCases() with a factory that opens its destination and reads back what it committed;
// the suite knows nothing of where the bytes go.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import type { Image, ImageIndexBundle, Layer, ManifestBlob } from '../../image/image.js';
import { digestOf } from '../../oci/digest.js';
import { parseImageConfig, parseManifest } from '../../oci/manifest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { isBerthError } from '../../util/errors.js';
import { Store } from '../../store/store.js';
import { readStoreImage } from '../store.js';
import { copyImage, copyImages, type CopyImageOptions } from './copy-image.js';
import { imageSource } from './image-source.js';
import { copyIntoStore } from './store.js';
import type { BlobInfo, DestinationCapabilities, ImageDestination, ImageSource } from './types.js';

export interface TransportUnderTest {
  /** A fresh destination for the image called `name`. */
  destination(name: string): Promise<ImageDestination>;
  /** A source over what the destination `name` committed (every platform of an index with `all`). */
  source(name: string, opts?: { all?: boolean }): Promise<ImageSource>;
  /** Whether an image called `name` can be seen there (a committed one). */
  visible(name: string): Promise<boolean>;
  /** Called once the suite's copies closed everything they opened: nothing of theirs may still be held open. */
  nothingOpen?(): Promise<void>;
  /**
   * Every image `name` holds, loaded as `load` loads it, with the names each carries: for a destination of several
   * images (`capabilities.multipleImages`), which must give it.
   */
  loadAll?(name: string): Promise<{ id: string; names: string[] }[]>;
  dispose(): Promise<void>;
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const [name, text] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, text);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A small image made here (gzip layers, or uncompressed ones as a build makes), in either manifest format, for one platform. */
export async function caseImage(opts: { format?: 'oci' | 'docker'; texts?: string[]; architecture?: string; uncompressed?: boolean } = {}): Promise<Image> {
  const docker = opts.format === 'docker';
  const raws = await Promise.all((opts.texts ?? ['one', 'two']).map((t, i) => tarOf({ [`f${i}.txt`]: `${t}\n` })));
  const blobs = opts.uncompressed ? raws : raws.map((r) => gzipSync(r));
  const config = Buffer.from(
    JSON.stringify({ architecture: opts.architecture ?? 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: raws.map((r) => digestOf(r)) } }),
  );
  const layerType = opts.uncompressed
    ? docker
      ? MediaType.DockerLayerUncompressed
      : MediaType.OciLayer
    : docker
      ? MediaType.DockerLayerGzip
      : MediaType.OciLayerGzip;
  const configType = docker ? MediaType.DockerConfig : MediaType.OciConfig;
  const manifestType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: configType, digest: digestOf(config), size: config.length },
      layers: blobs.map((b) => ({ mediaType: layerType, digest: digestOf(b), size: b.length })),
    }),
  );
  const layers: Layer[] = blobs.map((b, i) => ({
    digest: digestOf(b),
    size: b.length,
    mediaType: layerType,
    diffID: digestOf(raws[i]!),
    blob: async () => Readable.from([b]),
    tar: async () => Readable.from([raws[i]!]),
  }));
  return {
    manifest: { bytes, mediaType: manifestType, digest: digestOf(bytes) },
    config: { bytes: config, digest: digestOf(config), mediaType: configType },
    layers,
  };
}

/** An OCI index of two platforms' images. */
export async function caseIndex(): Promise<ImageIndexBundle> {
  const children = [await caseImage({ texts: ['amd'], architecture: 'amd64' }), await caseImage({ texts: ['arm'], architecture: 'arm64' })];
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: children.map((c) => ({
        mediaType: c.manifest.mediaType,
        digest: c.manifest.digest,
        size: c.manifest.bytes.length,
        platform: { os: 'linux', architecture: parseImageConfig(c.config.bytes).architecture },
      })),
    }),
  );
  return { index: { bytes, mediaType: MediaType.OciIndex, digest: digestOf(bytes) }, children };
}

/** A destination in memory that keeps what it is given (every blob verified by the copy on its way). */
export function memoryDestination(): ImageDestination & {
  blobs: Map<string, Buffer>;
  manifests: Map<string, ManifestBlob>;
  top: ManifestBlob | undefined;
  closed: number;
} {
  const capabilities: DestinationCapabilities = {
    manifestTypes: 'any',
    indexTypes: [MediaType.OciIndex, MediaType.DockerManifestList],
    needsUncompressed: false,
    prefersCompressed: false,
    compressions: ['none', 'gzip', 'zstd'],
    canReuseBlobs: false,
    keepsDigests: true,
    parallelBlobs: 6,
    multipleImages: false,
    takesNewLayers: false,
  };
  const dest = {
    reference: 'memory:',
    capabilities,
    blobs: new Map<string, Buffer>(),
    manifests: new Map<string, ManifestBlob>(),
    top: undefined as ManifestBlob | undefined,
    closed: 0,
    tryReuseBlob: async () => false,
    async putBlob(stream: Readable, blob: BlobInfo) {
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      dest.blobs.set(blob.digest, Buffer.concat(chunks));
    },
    async putManifest(m: ManifestBlob, o: { instance?: string } = {}) {
      if (o.instance !== undefined) dest.manifests.set(o.instance, m);
      else dest.top = m;
    },
    async commit() {},
    async close() {
      dest.closed++;
    },
  };
  return dest;
}

/** The image with one layer's bytes swapped for others of the same length (a registry or disk gone bad). */
function corrupted(image: Image, layer: number): Image {
  const layers = image.layers.map((l, i) =>
    i !== layer
      ? l
      : {
          ...l,
          blob: async () => {
            const chunks: Buffer[] = [];
            for await (const c of await l.blob()) chunks.push(c as Buffer);
            const b = Buffer.concat(chunks);
            b[b.length - 5] = b[b.length - 5]! ^ 0xff;
            return Readable.from([b]);
          },
        },
  );
  return { ...image, layers };
}

const tmpDirs: string[] = [];
async function tmpDir(): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const d = await mkdtemp(join(tmpdir(), 'berth-copy-case-'));
  tmpDirs.push(d);
  return d;
}
const OPTS: CopyImageOptions = { tmpDir };

/** Copies `src` into `dest` and closes both, whatever happens (as every caller must). */
async function copyAndClose(src: ImageSource, dest: ImageDestination, opts: Partial<CopyImageOptions> = {}): Promise<string> {
  try {
    return (await copyImage(src, dest, { ...OPTS, ...opts })).digest;
  } finally {
    await dest.close();
    await src.close();
  }
}

/** Reads back what `name` holds through the transport's own source, into memory. */
async function readBack(t: TransportUnderTest, name: string, all = false): Promise<ReturnType<typeof memoryDestination>> {
  const sink = memoryDestination();
  await copyAndClose(await t.source(name, { all }), sink, all ? { multiArch: 'all' } : {});
  return sink;
}

export function copyCases(transport: string, factory: () => Promise<TransportUnderTest>): void {
  describe(`copyImage through ${transport}`, { timeout: 60_000 }, () => {
    let t: TransportUnderTest | undefined;
    const open = async (): Promise<TransportUnderTest> => (t ??= await factory());
    after(async () => {
      await t?.dispose();
      const { rm } = await import('node:fs/promises');
      for (const d of tmpDirs.splice(0)) await rm(d, { recursive: true, force: true });
    });

    it('a round trip gives the same config and layers, and the same manifest digest where the destination keeps digests', async () => {
      const tt = await open();
      const image = await caseImage();
      const dest = await tt.destination('round');
      const caps = dest.capabilities;
      const digest = await copyAndClose(imageSource('memory:', image), dest);
      const back = await readBack(tt, 'round');
      const top = back.top!;
      if (caps.keepsDigests) {
        assert.equal(digest, image.manifest.digest);
        assert.equal(top.digest, image.manifest.digest);
        assert.deepEqual(top.bytes, image.manifest.bytes);
      }
      assert.deepEqual(back.blobs.get(image.config.digest), image.config.bytes, 'the config comes back byte for byte');
      const m = parseManifest(top.bytes, top.mediaType);
      assert.equal(m.kind, 'manifest');
      if (m.kind !== 'manifest') return;
      assert.equal(m.manifest.layers.length, image.layers.length);
      for (const d of m.manifest.layers) assert.ok(back.blobs.has(d.digest), `layer ${d.digest} read back`);
    });

    it('a corrupt blob is refused and nothing half-written is visible', async () => {
      const tt = await open();
      const image = corrupted(await caseImage({ texts: ['good', 'bad'] }), 1);
      await assert.rejects(
        copyAndClose(imageSource('memory:', image), await tt.destination('corrupt')),
        (e) => isBerthError(e, 'DIGEST_MISMATCH') || assert.fail(String(e)),
      );
      assert.equal(await tt.visible('corrupt'), false);
    });

    it('a manifest is converted only where the destination needs it', async () => {
      const tt = await open();
      const image = await caseImage({ format: 'docker', texts: ['docker'] });
      const dest = await tt.destination('docker-format');
      const caps = dest.capabilities;
      const digest = await copyAndClose(imageSource('memory:', image), dest);
      const back = await readBack(tt, 'docker-format');
      const takesDocker = caps.manifestTypes === 'any' || caps.manifestTypes.includes(MediaType.DockerManifest);
      if (takesDocker && caps.keepsDigests) {
        assert.equal(digest, image.manifest.digest);
        assert.equal(back.top!.mediaType, MediaType.DockerManifest);
      } else if (!takesDocker) {
        assert.equal(back.top!.mediaType, caps.manifestTypes[0]);
        assert.notEqual(digest, image.manifest.digest);
      }
      // An OCI image goes to every destination that takes OCI unchanged (the round trip above).
      assert.deepEqual(back.blobs.get(image.config.digest), image.config.bytes);
    });

    it('an index is copied whole (children first) where the destination holds indexes, and refused where it does not', async () => {
      const tt = await open();
      const bundle = await caseIndex();
      const dest = await tt.destination('index');
      if (dest.capabilities.indexTypes.length === 0) {
        await assert.rejects(copyAndClose(imageSource('memory:', bundle), dest, { multiArch: 'all' }), /cannot hold an image index/);
        return;
      }
      const digest = await copyAndClose(imageSource('memory:', bundle), dest, { multiArch: 'all' });
      assert.equal(digest, bundle.index.digest);
      const back = await readBack(tt, 'index', true);
      assert.equal(back.top!.digest, bundle.index.digest);
      for (const c of bundle.children) assert.equal(back.manifests.get(c.manifest.digest)?.digest, c.manifest.digest);
    });

    it('close() may be called twice, and leaves nothing open', async () => {
      const tt = await open();
      const dest = await tt.destination('closing');
      await dest.close();
      await dest.close();
      assert.equal(await tt.visible('closing'), false, 'a destination closed without a commit shows nothing');
      await copyAndClose(imageSource('memory:', await caseImage({ texts: ['closed'] })), await tt.destination('closed'));
      const src = await tt.source('closed');
      await src.close();
      await src.close();
      await tt.nothingOpen?.();
    });

    // A stored image as the source, as `save` reads it (and `copy berth:...`): the store of images this suite puts
    // there is its own, never the destination's.
    describe('from the store', () => {
      let store: Store | undefined;
      const storeOf = async (): Promise<Store> => (store ??= await Store.open({ root: join(await tmpDir(), 'source-store') }));
      after(async () => {
        await store?.close();
      });
      const stored = async (image: Image, name: string): Promise<ImageSource> => {
        const s = await storeOf();
        const record = await copyIntoStore(s, imageSource('memory:', image), [name], { tmpDir });
        return imageSource(`berth:${name}`, await readStoreImage(s, record));
      };

      it('a stored image goes out whole: its config, every layer (its tar where the destination takes tars), its digest where kept', async () => {
        const tt = await open();
        for (const [i, image] of [await caseImage({ texts: ['stored', 'gz'] }), await caseImage({ texts: ['built'], uncompressed: true })].entries()) {
          const name = `stored-${i}`;
          const dest = await tt.destination(name);
          const caps = dest.capabilities;
          // Each blob is read once: a destination of tars learns their sizes from the store, not by reading them first.
          const source = await stored(image, `localhost/${name}:latest`);
          const opened: string[] = [];
          const getBlob = source.getBlob.bind(source);
          source.getBlob = async (blob) => {
            opened.push(blob.digest);
            return getBlob(blob);
          };
          const digest = await copyAndClose(source, dest);
          assert.deepEqual([...opened].sort(), [...new Set(opened)].sort(), 'no blob read twice');
          const back = await readBack(tt, name);
          const takes = caps.manifestTypes === 'any' || caps.manifestTypes.includes(image.manifest.mediaType);
          // A destination that wants compressed layers gets a built (uncompressed) one gzipped, as push sends it.
          const gzipped = caps.prefersCompressed && image.layers.some((l) => l.digest === l.diffID);
          if (caps.keepsDigests) {
            assert.equal(back.top!.digest, digest, 'read back under the digest it was written as');
            if (takes && !gzipped) assert.equal(digest, image.manifest.digest, 'the stored manifest goes as it is');
          }
          assert.deepEqual(back.blobs.get(image.config.digest), image.config.bytes);
          const m = parseManifest(back.top!.bytes, back.top!.mediaType);
          assert.equal(m.kind, 'manifest');
          if (m.kind !== 'manifest') return;
          assert.equal(m.manifest.layers.length, image.layers.length);
          const want = caps.needsUncompressed ? image.layers.map((l) => l.diffID) : image.layers.map((l) => l.digest);
          if (!gzipped)
            assert.deepEqual(
              m.manifest.layers.map((d) => d.digest),
              want,
            );
          for (const d of m.manifest.layers) assert.ok(back.blobs.has(d.digest), `layer ${d.digest} read back`);
        }
      });

      it('a stored blob gone bad is refused, and nothing half-written is visible', async () => {
        const tt = await open();
        for (const [i, image] of [await caseImage({ texts: ['disk', 'rot'] }), await caseImage({ texts: ['built', 'rot'], uncompressed: true })].entries()) {
          const name = `rotten-${i}`;
          const source = await stored(image, `localhost/${name}:latest`);
          const path = (await storeOf()).blobs.path(image.layers[1]!.digest);
          const bytes = await readFile(path);
          bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
          await writeFile(path, bytes);
          await assert.rejects(copyAndClose(source, await tt.destination(name)), (e) => isBerthError(e, 'DIGEST_MISMATCH') || assert.fail(String(e)));
          assert.equal(await tt.visible(name), false);
        }
      });

      it('several stored images go into one destination that holds several, each under its own names, and load back so', async () => {
        const tt = await open();
        const images = [await caseImage({ texts: ['shared', 'first'] }), await caseImage({ texts: ['shared', 'second'], format: 'docker' })];
        const names = ['localhost/several-a:latest', 'localhost/several-b:1'];
        const sources = [await stored(images[0]!, names[0]!), await stored(images[1]!, names[1]!)];
        const dest = await tt.destination('several');
        const pairs = sources.map((source, i) => ({ source, names: [names[i]!] }));
        try {
          if (!dest.capabilities.multipleImages) {
            await assert.rejects(copyImages(pairs, dest, OPTS), /holds one image, not 2/);
            return;
          }
          await copyImages(pairs, dest, OPTS);
        } finally {
          await dest.close();
          for (const s of sources) await s.close();
        }
        assert.ok(tt.loadAll, 'a destination of several images says how they load back');
        const loaded = await tt.loadAll('several');
        for (const [i, image] of images.entries()) {
          const found = loaded.find((l) => l.id === image.config.digest);
          assert.ok(found, `image ${i} loaded back`);
          assert.deepEqual(found.names, [names[i]]);
        }
      });
    });
  });
}
