/**
 * Push from the local store to a registry: the stored image read with `readStoreImage`, layers
 * stored uncompressed gzipped first (a blob compressed before and held by the registry reused, see
 * compressed-layers.ts), other names of the image on that registry offered as mount sources.
 */
import type { Image, Layer } from '../../image/image.js';
import { recompressImage, type CompressedBlob } from '../../image/recompress.js';
import { formatReference, parseNormalizedNamed, withDefaultTag, type ImageReference } from '../../oci/reference.js';
import { requireImage } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { blobExists, formatOf, manifestAs, RegistryClient, writeRegistryImage, type PushFormat, type RegistryOptions } from '../../transports/docker/index.js';
import { readStoreImage } from '../../transports/store.js';
import { BerthError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { trace } from '../../util/trace.js';
import { CompressedLayers } from './compressed-layers.js';
import { copyImage } from './copy.js';
import { LOCAL_TRANSPORT } from '../containers/create-image.js';
import { checkSignaturesStorable, putSignatures } from './copy-signatures.js';
import { registriesConf, stripDockerTransport } from './pull.js';
import { attachSigstoreSignature, loadSigstorePrivateKey, requireSigstoreAttachments } from './sigstore.js';

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
  /** `--sign-by-sigstore-private-key` (with `--sign-passphrase-file`'s passphrase): sign the pushed manifest's digest, attached as cosign does. */
  signBySigstorePrivateKey?: { path: string; passphrase: Uint8Array };
  /** `--registries.d`: where the image's stored signatures are written, and whether the destination takes sigstore attachments. */
  registriesDir?: string;
  /** podman's --remove-signatures: push none of the signatures the store keeps for the image (without it they go with it). */
  removeSignatures?: boolean;
}

/** containers/image's refusal of a push that would change a signed manifest, naming the way out. */
function wouldInvalidate(count: number, why: string): BerthError {
  return new BerthError(
    'USAGE',
    `Would invalidate signatures: ${why} (push with --remove-signatures to leave the image's ${count} signature${count === 1 ? '' : 's'} behind)`,
  );
}

/**
 * Pushes a stored image to `dest` (default: the name it was found by). Other repositories of the
 * destination registry the image is named in are offered as mount sources. A `dir:`, `oci:`,
 * `oci-archive:` or `docker-archive:` destination gets a copy out of the store instead.
 */
export async function pushImage(
  store: Store,
  source: string,
  dest: string | undefined,
  opts: PushOptions = {},
): Promise<{ digest: string; reference: string }> {
  const record = requireImage(await store.images(), source);
  // podman pushes to the other transports too (`push IMAGE dir:DIR`, `oci:`, `oci-archive:`,
  // `docker-archive:`): a copy out of the store, as `copy berth:IMAGE DEST` makes it.
  if (dest !== undefined && LOCAL_TRANSPORT.test(dest)) return pushToLocalTransport(store, record.id, dest, opts);
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
  // containers/image writes a sigstore signature only as an attachment, and only where registries.d enables
  // them; refused before the push, not after it.
  if (opts.signBySigstorePrivateKey) await requireSigstoreAttachments(ref, opts.registriesDir);
  const sigstoreKey = opts.signBySigstorePrivateKey
    ? await loadSigstorePrivateKey(opts.signBySigstorePrivateKey.path, opts.signBySigstorePrivateKey.passphrase)
    : undefined;
  const stored = await readStoreImage(store, record);
  // The signatures the store keeps for the manifest pushed go with it, as podman pushes them (refused before the
  // push where the destination cannot take them, or where the push would convert the manifest they name).
  const signatures = opts.removeSignatures ? [] : ((await store.imageSignatures(record.id))[stored.manifest.digest] ?? []);
  const dst = { transport: 'docker' as const, ref };
  await checkSignaturesStorable(dst, `docker://${formatReference(ref)}`, signatures, { registriesDir: opts.registriesDir });
  if (signatures.length > 0 && opts.format && opts.format !== formatOf(stored.manifest.mediaType)) {
    throw wouldInvalidate(signatures.length, `--format ${opts.format} converts the manifest (${stored.manifest.mediaType})`);
  }
  const client = await RegistryClient.open(
    ref.domain,
    { ...opts, push: true, registriesConf: opts.registriesConf ?? (await registriesConf(opts.env)) },
    `${ref.domain}/${ref.path}`,
  );
  try {
    const image = await compressForPush(store, stored, client, ref.path, opts);
    // A manifest recompressed as asked is written as it is: the registry's refusal is not met by converting it.
    const format: PushFormat | undefined = opts.format ?? (opts.compression?.format && image !== stored ? formatOf(image.manifest.mediaType) : undefined);
    const written = format ? manifestAs(image, format) : image.manifest;
    if (signatures.length > 0 && written.digest !== stored.manifest.digest) {
      throw wouldInvalidate(
        signatures.length,
        `the pushed manifest would be ${written.digest}, not the signed ${stored.manifest.digest} (its layers recompressed)`,
      );
    }
    const { digest } = await writeRegistryImage(ref, image, { ...opts, ...(format ? { format } : {}), client, mountFrom: [...new Set(mountFrom)] });
    // The stored signatures name this very digest (checked above); written once the manifest is there.
    await putSignatures(dst, digest, signatures, { registriesDir: opts.registriesDir, registry: opts });
    // Signed only now: the digest is the one the registry holds, after any conversion the push made.
    if (sigstoreKey) await attachSigstoreSignature(client, ref.path, sigstoreKey, { dockerReference: formatReference(ref), manifestDigest: digest });
    return { digest, reference: formatReference(ref) };
  } finally {
    client.close();
  }
}

async function pushToLocalTransport(store: Store, id: string, dest: string, opts: PushOptions): Promise<{ digest: string; reference: string }> {
  if (opts.signBySigstorePrivateKey) throw new BerthError('USAGE', `${dest}: a sigstore signature is attached in a registry only`);
  const c = opts.compression ?? {};
  const digest = await copyImage(store, `berth:${id}`, dest, {
    ...(c.format ? { compression: { format: c.format, ...(c.level !== undefined ? { level: c.level } : {}) } } : {}),
    ...(opts.removeSignatures ? { removeSignatures: true } : {}),
  });
  return { digest, reference: dest };
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
