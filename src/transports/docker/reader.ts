/** `docker://` as a source: a registry image read as the transport-neutral Image. */
import { autoDecompress } from '../../archive/compression.js';
import { digestOf } from '../../oci/digest.js';
import { parseImageConfig, parseManifest, type Descriptor, type ImageIndex, type ImageManifest } from '../../oci/manifest.js';
import { hostPlatform, selectFromIndex, type Platform } from '../../oci/platform.js';
import { formatReference, type ImageReference } from '../../oci/reference.js';
import type { Image, ImageIndexBundle, Layer, ManifestBlob } from '../../image/image.js';
import { BerthError } from '../../util/errors.js';
import { openBlob, readBlob } from './blobs.js';
import { RegistryClient, type RegistryOptions } from './client.js';

export interface ReadOptions extends RegistryOptions {
  /** The platform to take from an index (default: this host's, linux/amd64 here). */
  platform?: Platform;
  /** A client to reuse (several reads from one registry share its tokens and connections). */
  client?: RegistryClient;
  /** A config already at hand (the local store's): saves a round trip; its bytes are checked against the digest, and a failed read means the registry is asked. */
  localConfig?: (digest: string) => Promise<Buffer | undefined>;
}

/** The reference part a registry takes in a manifest URL: the digest when there is one, else the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/**
 * Reads `ref` from its registry through `opts.client`, which the caller opened and closes once the image's layers
 * are read (they download lazily through it). An index is resolved for the platform and kept (its bytes are
 * the image's `index`); the config is fetched and checked against the manifest; layers open lazily
 * as verified streams.
 */
export async function readRegistryImage(ref: ImageReference, opts: ReadOptions & { client: RegistryClient }): Promise<Image> {
  const client = opts.client;
  const repo = ref.path;
  const manifest: ManifestBlob = await client.getManifest(repo, manifestReference(ref));
  const parsed = parseManifest(manifest.bytes, manifest.mediaType);
  if (parsed.kind === 'index') {
    const index = { ...manifest, mediaType: parsed.mediaType };
    const chosen = selectFromIndex(parsed.index as ImageIndex, opts.platform ?? hostPlatform());
    return { ...(await readChild(client, ref, chosen, opts.localConfig)), index };
  }
  return imageOf(client, ref, { ...manifest, mediaType: parsed.mediaType }, parsed.manifest, opts.localConfig);
}

/**
 * Reads `ref` for a copy of every platform: an index with each of its children as an Image (pulled lazily: only
 * manifests and configs are fetched here). A single manifest comes back as an Image (skopeo's --all copies it as is).
 */
export async function readRegistryIndex(ref: ImageReference, opts: ReadOptions & { client: RegistryClient }): Promise<ImageIndexBundle | Image> {
  const client = opts.client;
  const manifest: ManifestBlob = await client.getManifest(ref.path, manifestReference(ref));
  const parsed = parseManifest(manifest.bytes, manifest.mediaType);
  if (parsed.kind !== 'index') return imageOf(client, ref, { ...manifest, mediaType: parsed.mediaType }, parsed.manifest);
  const children: Image[] = [];
  for (const desc of parsed.index.manifests) children.push(await readChild(client, ref, desc));
  return { index: { ...manifest, mediaType: parsed.mediaType }, children };
}

async function readChild(client: RegistryClient, ref: ImageReference, desc: Descriptor, localConfig?: ReadOptions['localConfig']): Promise<Image> {
  const manifest = await client.getManifest(ref.path, desc.digest);
  if (manifest.digest !== desc.digest) {
    throw new BerthError('DIGEST_MISMATCH', `${formatReference(ref)}: manifest ${desc.digest} does not match its digest`);
  }
  const parsed = parseManifest(manifest.bytes, manifest.mediaType || desc.mediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('MANIFEST_UNSUPPORTED', `${formatReference(ref)}: nested image indexes are not supported`);
  return imageOf(client, ref, { ...manifest, mediaType: parsed.mediaType }, parsed.manifest, localConfig);
}

async function imageOf(
  client: RegistryClient,
  ref: ImageReference,
  manifest: ManifestBlob,
  m: ImageManifest,
  localConfig?: ReadOptions['localConfig'],
): Promise<Image> {
  const repo = ref.path;
  const local = await localConfig?.(m.config.digest).catch(() => undefined);
  const configBytes =
    local !== undefined && digestOf(local, m.config.digest.startsWith('sha512:') ? 'sha512' : 'sha256') === m.config.digest
      ? local
      : await readBlob(client, repo, m.config.digest, m.config.size);
  const diffIDs = parseImageConfig(configBytes).rootfs.diff_ids;
  if (diffIDs.length !== m.layers.length) {
    throw new BerthError(
      'MANIFEST_INVALID',
      `${formatReference(ref)}: the manifest lists ${m.layers.length} layers but the config has ${diffIDs.length} diff IDs`,
    );
  }
  const layers: Layer[] = m.layers.map((d, i) => ({
    digest: d.digest,
    size: d.size,
    mediaType: d.mediaType,
    diffID: diffIDs[i]!,
    blob: () => openBlob(client, repo, d.digest, d.size),
    blobVerified: true,
    tar: async () => autoDecompress(await openBlob(client, repo, d.digest, d.size)),
  }));
  return {
    manifest,
    config: { bytes: configBytes, digest: m.config.digest, mediaType: m.config.mediaType },
    layers,
  };
}

/** Every tag of `ref`'s repository (`pull --all-tags`). */
export async function listRegistryTags(ref: ImageReference, opts: ReadOptions = {}): Promise<string[]> {
  const client = opts.client ?? (await RegistryClient.open(ref.domain, opts, `${ref.domain}/${ref.path}`));
  try {
    return await client.listTags(ref.path);
  } finally {
    if (!opts.client) client.close();
  }
}
