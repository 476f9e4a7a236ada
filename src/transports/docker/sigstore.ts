/**
 * Sigstore signatures kept in a registry as cosign keeps them: the `sha256-<hex>.sig` tag of the
 * image's repository (signature/sigstore-attachments.ts says what is there). Reading costs one
 * manifest request (a 404 is "no signatures") plus one small blob per signature.
 */
import type { SigstoreSignature } from '../../signature/sigstore.js';
import {
  addSignatureToAttachment,
  parseAttachmentManifest,
  sigstoreAttachmentTag,
  signatureLayers,
  type AttachmentManifest,
} from '../../signature/sigstore-attachments.js';
import type { UnverifiedSignature } from '../../signature/types.js';
import { MediaType } from '../../oci/mediatypes.js';
import { BerthError } from '../../util/errors.js';
import { MaxBytes } from '../../util/read-limits.js';
import { openBlob, uploadBlob, blobExists } from './blobs.js';
import type { RegistryClient } from './client.js';
import { bufferStream, readBody, registryError } from './_http.js';

/** containers/image's limit on one signature (iolimits.MaxSignatureBodySize). */
const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024;

/** The signatures attached to `manifestDigest` in `repository` (none when the tag is absent). */
export async function readSigstoreSignatures(client: RegistryClient, repository: string, manifestDigest: string): Promise<UnverifiedSignature[]> {
  const found = await readAttachment(client, repository, manifestDigest);
  if (!found) return [];
  const out: UnverifiedSignature[] = [];
  for (const layer of signatureLayers(found.manifest)) {
    const payload = await readSmallBlob(client, repository, layer.digest, layer.size, `signature ${layer.digest} of ${manifestDigest}`);
    out.push({ kind: 'sigstore', payload, annotations: { ...(layer.annotations ?? {}) } });
  }
  return out;
}

/**
 * Attaches `signature` to `manifestDigest` in `repository`: the payload blob, the attachment's config
 * and manifest (the signatures already there kept, this one appended unless it is there already).
 */
export async function writeSigstoreSignature(client: RegistryClient, repository: string, manifestDigest: string, signature: SigstoreSignature): Promise<void> {
  const found = await readAttachment(client, repository, manifestDigest);
  const existing = found
    ? {
        manifest: found.manifest,
        config: await readSmallBlob(client, repository, found.manifest.config.digest, found.manifest.config.size, `the config of ${found.tag}`),
      }
    : undefined;
  const update = addSignatureToAttachment(existing, signature);
  if (!update) return;
  for (const blob of [update.payload, update.config]) {
    if (await blobExists(client, repository, blob.digest)) continue;
    await uploadBlob(client, repository, { digest: blob.digest, size: blob.bytes.length }, bufferStream(blob.bytes)());
  }
  await client.putManifest(repository, sigstoreAttachmentTag(manifestDigest), update.manifest);
}

async function readAttachment(
  client: RegistryClient,
  repository: string,
  manifestDigest: string,
): Promise<{ tag: string; manifest: AttachmentManifest } | undefined> {
  const tag = sigstoreAttachmentTag(manifestDigest);
  const what = `reading sigstore signatures ${client.registry}/${repository}:${tag}`;
  const res = await client.request('GET', `/v2/${repository}/manifests/${tag}`, {
    scopes: [client.scope(repository)],
    headers: { Accept: MediaType.OciManifest },
    retry: true,
  });
  if (res.status === 404) {
    res.body.resume();
    return undefined;
  }
  if (res.status !== 200) throw await registryError(res, what);
  const bytes = await readBody(res, MaxBytes.manifest);
  const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (type !== MediaType.OciManifest) throw new BerthError('MANIFEST_INVALID', `${what}: unexpected manifest type ${JSON.stringify(type)}`);
  return { tag, manifest: parseAttachmentManifest(bytes, what) };
}

async function readSmallBlob(client: RegistryClient, repository: string, digest: string, size: number, what: string): Promise<Buffer> {
  if (size > MAX_SIGNATURE_BYTES) throw new BerthError('IO', `${what} is ${size} bytes, more than the ${MAX_SIGNATURE_BYTES} berth accepts`);
  const chunks: Buffer[] = [];
  for await (const c of await openBlob(client, repository, digest, size)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
