// Manifests by tag or digest: GET/HEAD with content negotiation, PUT (parsed, schema-checked, every
// referenced blob or child manifest present in the repository), DELETE of a tag or a manifest.
import { digestOf } from '../../oci/digest.js';
import { parseManifest, type Descriptor } from '../../oci/manifest.js';
import { isNondistributable } from '../../oci/mediatypes.js';
import { isBerthError } from '../../util/errors.js';
import { RegistryError } from '../errors.js';
import { isValidTag, parseReference } from '../names.js';
import type { RegistryStorage, StoredManifest } from '../storage/types.js';
import { empty, readLimited, type Handler } from './_http.js';

function unknownManifest(name: string, ref: string): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', `manifest ${ref} is unknown to repository ${name}`, { detail: { name, reference: ref } });
}

async function resolve(storage: RegistryStorage, name: string, ref: string): Promise<string> {
  const r = parseReference(ref, 'MANIFEST_UNKNOWN');
  const digest = r.kind === 'digest' ? r.digest : await storage.tags.get(name, r.tag);
  if (digest !== undefined) return digest;
  if (!(await storage.hasRepository(name))) throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to the registry`, { detail: { name } });
  throw unknownManifest(name, ref);
}

/** Whether an Accept header admits `mediaType`; no header (or an empty one) admits everything. */
export function accepts(accept: string | undefined, mediaType: string): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const [type] = mediaType.split('/');
  return accept.split(',').some((part) => {
    const [range, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (params.some((p) => /^q=0(?:\.0*)?$/.test(p))) return false;
    return range === '*/*' || range === `${type}/*` || range === mediaType;
  });
}

export const getManifest: Handler = async (c, { storage, target }) => {
  const name = target.name;
  const digest = await resolve(storage, name, target.ref!);
  const head = c.req.method === 'HEAD';
  const found = head
    ? await storage.manifests.stat(name, digest).then((m) => m && { manifest: m, bytes: undefined })
    : await storage.manifests.get(name, digest);
  if (!found) throw unknownManifest(name, target.ref!);
  const m = found.manifest;
  // Every Accept header of c.req.raw, joined: clients may send several.
  const accept = c.req.raw.headers.get('accept') ?? undefined;
  if (!accepts(accept, m.mediaType)) {
    throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${target.ref} is a ${m.mediaType}, which the request's Accept header does not allow`, {
      detail: { mediaType: m.mediaType },
    });
  }
  const headers = { 'Content-Type': m.mediaType, 'Content-Length': String(m.size), 'Docker-Content-Digest': m.digest, ETag: `"${m.digest}"` };
  return new Response((found.bytes ?? null) as BodyInit | null, { status: 200, headers });
};

/** The entry of a referrers list for a manifest: its artifactType, else (for an image manifest) its config's type. */
export function referrerDescriptor(m: StoredManifest, artifactType: string | undefined, annotations: Record<string, string> | undefined): Descriptor {
  const d: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
  if (artifactType !== undefined) d.artifactType = artifactType;
  if (annotations !== undefined && Object.keys(annotations).length > 0) d.annotations = annotations;
  return d;
}

/**
 * MANIFEST_BLOB_UNKNOWN (one error per digest) for what the manifest names that the repository lacks; else
 * the blobs checked, for the storage to hold on to while it stores the manifest (PutManifestOptions.blobs).
 */
async function checkReferences(storage: RegistryStorage, name: string, parsed: ReturnType<typeof parseManifest>): Promise<string[]> {
  const missing: string[] = [];
  const held: string[] = [];
  if (parsed.kind === 'manifest') {
    const m = parsed.manifest;
    for (const d of [m.config, ...m.layers]) {
      if (d.urls && d.urls.length > 0 && isNondistributable(d.mediaType)) continue; // fetched from its urls, not from here
      const info = await storage.links.stat(name, d.digest);
      held.push(d.digest);
      if (!info) missing.push(d.digest);
      else if (info.size !== d.size)
        throw new RegistryError('MANIFEST_INVALID', `descriptor of ${d.digest} says ${d.size} bytes, the blob has ${info.size}`, {
          detail: { digest: d.digest },
        });
    }
  } else {
    for (const d of parsed.index.manifests) if (!(await storage.manifests.stat(name, d.digest))) missing.push(d.digest);
  }
  if (missing.length === 0) return held;
  const errors = [...new Set(missing)].map(
    (digest) => new RegistryError('MANIFEST_BLOB_UNKNOWN', `blob ${digest} is unknown to repository ${name}`, { detail: { digest } }),
  );
  throw new RegistryError(errors[0]!.code, errors[0]!.message, { detail: errors[0]!.detail, more: errors.slice(1) });
}

export const putManifest: Handler = async (c, { storage, limits, target }) => {
  const name = target.name;
  const ref = parseReference(target.ref!);
  // ?tag= (repeatable) on a PUT by digest tags it in the same request, as distribution-spec's next
  // version allows: the only way to tag a manifest whose digest is not the canonical sha256.
  const extraTags = c.req.queries('tag') ?? [];
  for (const tag of extraTags) {
    if (ref.kind !== 'digest') throw new RegistryError('MANIFEST_INVALID', `?tag= needs a manifest PUT by digest, not by tag ${ref.tag}`, { detail: { tag } });
    if (!isValidTag(tag)) throw new RegistryError('MANIFEST_INVALID', `invalid tag "${tag}"`, { detail: { tag } });
  }
  const bytes = await readLimited(c, limits.manifestBytes, 'manifest');
  let parsed: ReturnType<typeof parseManifest>;
  try {
    parsed = parseManifest(bytes, c.req.header('content-type'));
  } catch (e) {
    if (isBerthError(e)) throw new RegistryError('MANIFEST_INVALID', e.message, { cause: e });
    throw e;
  }
  const blobs = await checkReferences(storage, name, parsed);
  const doc = parsed.kind === 'manifest' ? parsed.manifest : parsed.index;
  const artifactType = doc.artifactType ?? (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
  const digestOpt = ref.kind === 'digest' ? { digest: ref.digest, blobs } : { blobs };
  let stored: StoredManifest;
  if (doc.subject) {
    const subject = doc.subject.digest;
    // The descriptor needs the digest, which put verifies or computes the same way.
    const probe = { digest: ref.kind === 'digest' ? ref.digest : digestOf(bytes), mediaType: parsed.mediaType, size: bytes.length };
    stored = await storage.manifests.put(name, bytes, parsed.mediaType, {
      ...digestOpt,
      referrer: { subject, descriptor: referrerDescriptor(probe, artifactType, doc.annotations) },
    });
  } else {
    stored = await storage.manifests.put(name, bytes, parsed.mediaType, digestOpt);
  }
  if (ref.kind === 'tag') await storage.tags.set(name, ref.tag, stored.digest);
  for (const tag of extraTags) await storage.tags.set(name, tag, stored.digest);
  const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${stored.digest}`, 'Docker-Content-Digest': stored.digest };
  if (extraTags.length > 0) headers['OCI-Tag'] = [...new Set(extraTags)].join(', ');
  if (doc.subject) headers['OCI-Subject'] = doc.subject.digest;
  return empty(201, headers);
};

export const deleteManifest: Handler = async (_c, { storage, target }) => {
  const name = target.name;
  const ref = parseReference(target.ref!, 'MANIFEST_UNKNOWN');
  const removed = ref.kind === 'tag' ? await storage.tags.delete(name, ref.tag) : await storage.manifests.delete(name, ref.digest);
  if (!removed) throw unknownManifest(name, target.ref!);
  return empty(202);
};
