/**
 * Where a registry keeps an image's sigstore signatures: an OCI manifest tagged `sha256-<hex>.sig` in
 * the image's repository (cosign's scheme, which containers/image follows), one layer per signature
 * (the payload, media type `application/vnd.dev.cosign.simplesigning.v1+json`, its signature in the
 * layer's annotations) and a config whose rootfs lists the layers. Adding a signature appends a layer.
 * Pure functions: the registry I/O is transports/docker's.
 */
import { digestOf, parseDigest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { BerthError } from '../util/errors.js';
import { SIGSTORE_SIGNATURE_MEDIA_TYPE, type SigstoreSignature } from './sigstore.js';

export interface AttachmentLayer {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An attachment manifest as read: its layers, and the whole document (kept so unknown fields survive an update). */
export interface AttachmentManifest {
  config: { mediaType: string; digest: string; size: number };
  layers: AttachmentLayer[];
  doc: Record<string, unknown>;
}

/** The tag of `manifestDigest`'s signatures: `sha256:abc…` → `sha256-abc….sig`. */
export function sigstoreAttachmentTag(manifestDigest: string): string {
  const d = parseDigest(manifestDigest);
  return `${d.algorithm}-${d.hex}.sig`;
}

/** Parses an attachment manifest (an OCI image manifest; anything else is refused). */
export function parseAttachmentManifest(bytes: Uint8Array, what: string): AttachmentManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new BerthError('MANIFEST_INVALID', `${what}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  const d = doc as { schemaVersion?: unknown; mediaType?: unknown; config?: unknown; layers?: unknown } | null;
  if (typeof d !== 'object' || d === null || d.schemaVersion !== 2 || (d.mediaType !== undefined && d.mediaType !== MediaType.OciManifest))
    throw new BerthError('MANIFEST_INVALID', `${what}: not an OCI image manifest`);
  const config = d.config as AttachmentManifest['config'] | undefined;
  if (!isDescriptor(config)) throw new BerthError('MANIFEST_INVALID', `${what}: no valid config descriptor`);
  const layers = d.layers ?? [];
  if (!Array.isArray(layers) || !layers.every(isDescriptor)) throw new BerthError('MANIFEST_INVALID', `${what}: invalid layers`);
  for (const l of layers as AttachmentLayer[]) {
    const a = l.annotations;
    if (a !== undefined && (typeof a !== 'object' || a === null || Object.values(a).some((v) => typeof v !== 'string')))
      throw new BerthError('MANIFEST_INVALID', `${what}: invalid layer annotations`);
  }
  return { config, layers: layers as AttachmentLayer[], doc: d as Record<string, unknown> };
}

/** The layers that are signatures (another attachment kind is no signature, whatever its annotations say). */
export function signatureLayers(manifest: AttachmentManifest): AttachmentLayer[] {
  return manifest.layers.filter((l) => l.mediaType === SIGSTORE_SIGNATURE_MEDIA_TYPE);
}

/** What to upload to add `signature`: its payload blob, the new config, the new manifest; undefined when it is there already. */
export interface AttachmentUpdate {
  payload: { digest: string; bytes: Buffer };
  config: { digest: string; bytes: Buffer };
  manifest: { digest: string; bytes: Buffer; mediaType: string };
}

/**
 * The attachment with `signature` appended (`existing`: the manifest and config bytes found at the tag,
 * if any). A layer with the same payload and annotations is not added twice.
 */
export function addSignatureToAttachment(
  existing: { manifest: AttachmentManifest; config: Uint8Array } | undefined,
  signature: SigstoreSignature,
): AttachmentUpdate | undefined {
  const payload = Buffer.from(signature.payload);
  const layer: AttachmentLayer = {
    mediaType: SIGSTORE_SIGNATURE_MEDIA_TYPE,
    digest: digestOf(payload),
    size: payload.length,
    annotations: { ...signature.annotations },
  };
  const layers = existing?.manifest.layers ?? [];
  if (layers.some((l) => sameLayer(l, layer))) return undefined;
  let config: Record<string, unknown>;
  if (existing) {
    try {
      config = JSON.parse(Buffer.from(existing.config).toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new BerthError('CONFIG_INVALID', `the signature attachment's config is not JSON: ${(e as Error).message}`, { cause: e });
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      throw new BerthError('CONFIG_INVALID', "the signature attachment's config is not an object");
  } else {
    // What an empty OCI image config marshals to in Go, which containers/image starts from.
    config = { architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [] } };
  }
  const rootfs = (typeof config['rootfs'] === 'object' && config['rootfs'] !== null ? config['rootfs'] : { type: 'layers' }) as Record<string, unknown>;
  const diffIDs = Array.isArray(rootfs['diff_ids']) ? (rootfs['diff_ids'] as unknown[]) : [];
  config['rootfs'] = { ...rootfs, diff_ids: [...diffIDs, layer.digest] };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc = { mediaType: MediaType.OciConfig, digest: digestOf(configBytes), size: configBytes.length };
  const doc: Record<string, unknown> = existing ? { ...existing.manifest.doc } : { schemaVersion: 2, mediaType: MediaType.OciManifest };
  doc['config'] = configDesc;
  doc['layers'] = [...layers, layer];
  const manifestBytes = Buffer.from(JSON.stringify(doc));
  return {
    payload: { digest: layer.digest, bytes: payload },
    config: { digest: configDesc.digest, bytes: configBytes },
    manifest: { digest: digestOf(manifestBytes), bytes: manifestBytes, mediaType: MediaType.OciManifest },
  };
}

function sameLayer(a: AttachmentLayer, b: AttachmentLayer): boolean {
  const x = a.annotations ?? {};
  const y = b.annotations ?? {};
  return (
    a.mediaType === b.mediaType &&
    a.digest === b.digest &&
    a.size === b.size &&
    Object.keys(x).length === Object.keys(y).length &&
    Object.entries(x).every(([k, v]) => y[k] === v)
  );
}

function isDescriptor(v: unknown): v is AttachmentLayer {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Partial<AttachmentLayer>;
  if (typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    return false;
  try {
    parseDigest(d.digest);
    return true;
  } catch {
    return false;
  }
}
