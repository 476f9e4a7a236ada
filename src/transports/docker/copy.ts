/**
 * Pull and push between a registry and the local store: short names resolved through the
 * unqualified-search registries, mirrors tried before the registry itself, the store written with
 * `writeStoreImage` (layers it has are skipped) and read with `readStoreImage`.
 */
import { loadRegistriesConf, pullSources, type RegistriesConf } from '../../config/registries.js';
import { resolveShortName } from '../../config/shortnames.js';
import type { Platform } from '../../oci/platform.js';
import { formatReference, parseNormalizedNamed, withDefaultTag, withTag, type ImageReference } from '../../oci/reference.js';
import type { ImageRecord } from '../../store/images.js';
import { requireImage } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { BerthError, isBerthError, type ErrorCode } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { trace } from '../../util/trace.js';
import type { Image, Layer } from '../../image/image.js';
import { recompressImage, type CompressedBlob } from '../../image/recompress.js';
import { readStoreImage } from '../store.js';
import { copyIntoStore, registryImageSource } from '../copy/index.js';
import { blobExists } from './blobs.js';
import { RegistryClient, type RegistryOptions } from './client.js';
import { CompressedLayers } from './compressed-layers.js';
import { readRegistryImage } from './reader.js';
import { formatOf, writeRegistryImage, type PushFormat } from './writer.js';

export interface PullOptions extends RegistryOptions {
  platform?: Platform;
  /** Every tag of the repository (the name must carry no tag or digest). */
  allTags?: boolean;
  onProgress?: ProgressSink;
  /** Told each reference before it is tried ("Trying to pull …"). */
  onTrying?: (reference: string) => void;
}

/** registries.conf as podman finds it ($CONTAINERS_REGISTRIES_CONF replaces the default files). */
export async function registriesConf(env: Record<string, string | undefined> = process.env): Promise<RegistriesConf> {
  const explicit = env['CONTAINERS_REGISTRIES_CONF'];
  return loadRegistriesConf(explicit ? { explicit } : {});
}

/** `docker://NAME` or `NAME`: the name; any other transport is refused. */
export function stripDockerTransport(name: string): string {
  if (name.startsWith('docker://')) return name.slice('docker://'.length);
  const m = /^([a-z][a-z0-9-]*):(?!\d)/.exec(name);
  if (m && ['oci', 'oci-archive', 'docker-archive', 'dir', 'containers-storage', 'docker-daemon'].includes(m[1]!)) {
    throw new BerthError('USAGE', `${name}: only docker:// (registry) references are supported here`);
  }
  return name;
}

/**
 * Pulls `name` into the store, as podman does: each candidate of the short-name resolution in
 * turn, each through its mirrors then its registry, until one gives the image. Returns the records
 * (several with `allTags`).
 */
export async function pullImages(store: Store, name: string, opts: PullOptions = {}): Promise<ImageRecord[]> {
  const conf = opts.registriesConf ?? (await registriesConf(opts.env));
  const input = stripDockerTransport(name);
  const { candidates } = resolveShortName(conf, input);
  if (opts.allTags) {
    const ref = candidates[0]!;
    const typed = parseNormalizedNamed(input);
    if (typed.tag !== undefined || typed.digest !== undefined) {
      throw new BerthError('USAGE', `${input}: --all-tags takes a repository name without a tag or digest`);
    }
    const client = await RegistryClient.open(ref.domain, { ...opts, registriesConf: conf }, `${ref.domain}/${ref.path}`);
    try {
      const tags = await client.listTags(ref.path);
      const out: ImageRecord[] = [];
      for (const tag of tags) out.push(await pullOne(store, [withTag(ref, tag)], conf, opts, input));
      return out;
    } finally {
      client.close();
    }
  }
  return [await pullOne(store, candidates, conf, opts, input)];
}

async function pullOne(store: Store, candidates: ImageReference[], conf: RegistriesConf, opts: PullOptions, input: string): Promise<ImageRecord> {
  const errors: { ref: string; error: unknown }[] = [];
  for (const candidate of candidates) {
    const shown = formatReference(candidate);
    opts.onTrying?.(shown);
    for (const source of pullSources(conf, candidate)) {
      const ref = source.reference;
      const client = await RegistryClient.open(
        ref.domain,
        { ...opts, registriesConf: conf, ...(source.endpoint.insecure && opts.tlsVerify === undefined ? { tlsVerify: false } : {}) },
        `${ref.domain}/${ref.path}`,
      );
      try {
        let image;
        try {
          trace('pull: client ready');
          // A config the store holds already (the image pulled under another name) needs no request.
          image = await readRegistryImage(ref, { ...opts, client, localConfig: (digest) => store.blobs.read(digest) });
          trace('pull: manifest and config read');
        } catch (e) {
          errors.push({ ref: formatReference(ref), error: e });
          continue;
        }
        // Once the image is found, a failure while copying it is the answer (a bad blob is not retried elsewhere).
        const names = candidate.tag !== undefined ? [formatReference(withDefaultTag({ domain: candidate.domain, path: candidate.path, tag: candidate.tag }))] : [];
        const record = await copyIntoStore(store, registryImageSource(client, ref, image), names, { ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), tmpDir: () => store.tmp.make('pull') });
        trace('pull: image stored');
        return record;
      } finally {
        client.close();
      }
    }
  }
  if (errors.length === 1) {
    const { ref, error } = errors[0]!;
    throw new BerthError(codeOf(error), `initializing source docker://${ref}: ${(error as Error).message}`, { cause: error });
  }
  const lines = errors.map(({ ref, error }) => `docker://${ref}: ${(error as Error).message}`);
  throw new BerthError(codeOf(errors[0]?.error), `${errors.length} errors occurred while pulling ${input}: ${lines.join('; ')}`, { cause: errors[0]?.error });
}

function codeOf(e: unknown): ErrorCode {
  return isBerthError(e) ? e.code : 'IO';
}

export interface PushOptions extends RegistryOptions {
  format?: PushFormat;
  /**
   * podman's --compression-format/--compression-level/--force-compression: with a format, layers in another
   * compression are recompressed (zstd forces an OCI manifest), and with force false a layer the registry already
   * holds as it is stays as it is. Without one (the default), layers stored uncompressed are gzip-compressed (at
   * `level`) and compressed ones go as they are, as podman and docker push.
   */
  compression?: { format?: 'gzip' | 'zstd'; level?: number; force?: boolean };
  concurrency?: number;
  chunkSize?: number;
  onProgress?: ProgressSink;
}

/**
 * Pushes a stored image to `dest` (default: the name it was found by). Other repositories of the
 * destination registry the image is named in are offered as mount sources.
 */
export async function pushImage(store: Store, source: string, dest: string | undefined, opts: PushOptions = {}): Promise<{ digest: string; reference: string }> {
  const record = requireImage(await store.images(), source);
  const destName = stripDockerTransport(dest ?? source);
  let ref: ImageReference;
  try {
    ref = parseNormalizedNamed(destName);
  } catch (e) {
    if (dest === undefined) throw new BerthError('USAGE', `${source}: a destination is needed to push an image by ID`, { cause: e });
    throw e;
  }
  if (ref.digest === undefined) ref = withDefaultTag(ref);
  const mountFrom = record.names
    .map((n) => {
      try {
        return parseNormalizedNamed(n);
      } catch {
        return undefined;
      }
    })
    .filter((r): r is ImageReference => r !== undefined && r.domain === ref.domain && r.path !== ref.path)
    .map((r) => r.path);
  const stored = await readStoreImage(store, record);
  const client = await RegistryClient.open(ref.domain, { ...opts, push: true, registriesConf: opts.registriesConf ?? (await registriesConf(opts.env)) }, `${ref.domain}/${ref.path}`);
  try {
    const image = await compressForPush(store, stored, client, ref.path, opts);
    // A manifest recompressed as asked is written as it is: the registry's refusal is not met by converting it.
    const format: PushFormat | undefined = opts.format ?? (opts.compression?.format && image !== stored ? formatOf(image.manifest.mediaType) : undefined);
    const { digest } = await writeRegistryImage(ref, image, { ...opts, ...(format ? { format } : {}), client, mountFrom: [...new Set(mountFrom)] });
    return { digest, reference: formatReference(ref) };
  } finally {
    client.close();
  }
}

/**
 * The stored image as push sends it: with --compression-format, layers in another compression recompressed; by
 * default, layers stored uncompressed gzip-compressed. A blob this store compressed before (compressed-layers.ts)
 * and the registry holds is used as it is, without compressing again.
 */
async function compressForPush(store: Store, stored: Image, client: RegistryClient, repo: string, opts: PushOptions): Promise<Image> {
  const c = opts.compression ?? {};
  const level = c.level !== undefined ? { level: c.level } : {};
  const compressed = await CompressedLayers.open(store.root);
  // --force-compression=false takes any blob of the layer the registry holds; otherwise the compression and level asked.
  const wanted = (b: CompressedBlob) => c.force === false || (b.compression === (c.format ?? 'gzip') && b.level === c.level);
  const remembered = {
    reuse: async (layer: Layer): Promise<CompressedBlob | undefined> => {
      for (const b of compressed.of(layer.digest).filter(wanted)) {
        if (!(await blobExists(client, repo, b.digest))) continue;
        trace(`push: ${layer.digest} reused as ${b.digest}, which the registry holds`);
        compressed.add(layer.digest, b); // used again: kept longer
        return b;
      }
      return undefined;
    },
    onCompressed: (layer: Layer, b: CompressedBlob) => {
      trace(`push: ${layer.digest} compressed to ${b.digest}`);
      compressed.add(layer.digest, b);
    },
  };
  const tmpDir = await store.tmp.make('push');
  const image = c.format
    ? await recompressImage(stored, {
        compression: c.format,
        ...level,
        ...(opts.format ? { format: opts.format === 'oci' ? 'oci' : 'docker' } : {}),
        tmpDir,
        ...remembered,
        ...(c.force === false ? { keep: (layer) => blobExists(client, repo, layer.digest) } : {}),
      })
    : // A built or committed image is stored uncompressed: 2-3 times the bytes on the wire and in the registry.
      await recompressImage(stored, { compression: 'gzip', onlyUncompressed: true, ...level, tmpDir, ...remembered });
  // What was compressed is remembered even if the push then fails; a cache that cannot be written is no error.
  await compressed.save().catch(() => undefined);
  return image;
}
