/** `berth inspect docker://REF`: what skopeo inspect tells about a registry image, without pulling it. */
import { parseImageConfig, parseManifest, type ImageIndex } from '../../oci/manifest.js';
import { hostPlatform, selectFromIndex } from '../../oci/platform.js';
import type { ImageReference } from '../../oci/reference.js';
import { BerthError } from '../../util/errors.js';
import { readBlob } from './blobs.js';
import { RegistryClient } from './client.js';
import { manifestReference, type ReadOptions } from './reader.js';
import { goTimestampString } from '../../oci/time.js';

export interface RemoteInspectOptions extends ReadOptions {
  /** Leave out RepoTags (skopeo's --no-tags): one request fewer, and no tag list permission needed. */
  noTags?: boolean;
}

/** skopeo inspect's JSON shape. */
export interface RemoteImageInfo {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Created?: string;
  DockerVersion: string;
  Labels: Record<string, string> | null;
  Architecture: string;
  Os: string;
  Variant?: string;
  Layers: string[];
  LayersData: { MIMEType: string; Digest: string; Size: number; Annotations: Record<string, string> | null }[];
  Env: string[] | null;
}

export interface RemoteImage {
  /** The manifest (or index) the reference names, as the registry serves it. */
  topManifest: Buffer;
  /** The platform's manifest (the same as topManifest unless the reference names an index). */
  manifest: Buffer;
  config: Buffer;
  info: RemoteImageInfo;
}

export async function inspectRegistryImage(ref: ImageReference, opts: RemoteInspectOptions = {}): Promise<RemoteImage> {
  const client = opts.client ?? (await RegistryClient.open(ref.domain, opts, `${ref.domain}/${ref.path}`));
  try {
    return await inspectWith(client, ref, opts);
  } finally {
    if (!opts.client) client.close();
  }
}

async function inspectWith(client: RegistryClient, ref: ImageReference, opts: RemoteInspectOptions): Promise<RemoteImage> {
  const repo = ref.path;
  const top = await client.getManifest(repo, manifestReference(ref));
  let manifest = top;
  let parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind === 'index') {
    const chosen = selectFromIndex(parsed.index as ImageIndex, opts.platform ?? hostPlatform());
    manifest = await client.getManifest(repo, chosen.digest);
    parsed = parseManifest(manifest.bytes, manifest.mediaType || chosen.mediaType);
    if (parsed.kind !== 'manifest') throw new BerthError('MANIFEST_UNSUPPORTED', `${ref.domain}/${repo}: nested image indexes are not supported`);
  }
  const m = parsed.manifest;
  const [config, tags] = await Promise.all([readBlob(client, repo, m.config.digest, m.config.size), opts.noTags ? Promise.resolve([]) : client.listTags(repo)]);
  const c = parseImageConfig(config);
  return {
    topManifest: top.bytes,
    manifest: manifest.bytes,
    config,
    info: {
      Name: `${ref.domain}/${repo}`,
      Digest: top.digest,
      RepoTags: tags,
      ...(c.created ? { Created: goTimestampString(c.created) } : {}),
      DockerVersion: (c as { docker_version?: string }).docker_version ?? '',
      Labels: c.config?.Labels ?? null,
      Architecture: c.architecture,
      Os: c.os,
      ...(c.variant ? { Variant: c.variant } : {}),
      Layers: m.layers.map((l) => l.digest),
      LayersData: m.layers.map((l) => ({ MIMEType: l.mediaType, Digest: l.digest, Size: l.size, Annotations: l.annotations ?? null })),
      Env: c.config?.Env ?? null,
    },
  };
}

/**
 * skopeo delete: removes the manifest a reference names. A tag is resolved to its digest first
 * (the registry API deletes by digest, so every tag on that manifest goes with it, as in skopeo).
 */
export async function deleteRegistryImage(ref: ImageReference, opts: ReadOptions = {}): Promise<string> {
  const client = opts.client ?? (await RegistryClient.open(ref.domain, opts, `${ref.domain}/${ref.path}`));
  try {
    return await deleteWith(client, ref);
  } finally {
    if (!opts.client) client.close();
  }
}

async function deleteWith(client: RegistryClient, ref: ImageReference): Promise<string> {
  let digest = ref.digest;
  if (!digest) {
    const head = await client.headManifest(ref.path, manifestReference(ref));
    if (!head) throw new BerthError('IMAGE_UNKNOWN', `${ref.domain}/${ref.path}:${manifestReference(ref)}: manifest unknown`);
    digest = head.digest ?? (await client.getManifest(ref.path, manifestReference(ref))).digest;
  }
  await client.deleteManifest(ref.path, digest);
  return digest;
}
