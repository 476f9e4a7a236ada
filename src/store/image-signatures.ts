/**
 * An image's signatures, kept beside its record as containers-storage keeps them (issue 17): per
 * manifest digest, exactly as they were read (a GPG signature's bytes, a sigstore signature's
 * payload and annotations), so that a push or a copy out of the store carries them on. One small
 * JSON file per image, `signatures/<hex of the image ID>.json`, rewritten whole and atomically under
 * the store lock (a kill -9 leaves the old set or the new one); an image without the file has none,
 * so a store written before this file existed reads as it did.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { UnverifiedSignature } from '../signature/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDirs } from '../util/dirs.js';
import { BerthError, errnoCode } from '../util/errors.js';

/** The signatures of each manifest digest an image is known by. */
export type SignaturesByDigest = Record<string, UnverifiedSignature[]>;

type StoredSignature = { kind: 'simple-signing'; bytes: string } | { kind: 'sigstore'; payload: string; annotations: Record<string, string> };

interface SignaturesFile {
  version: 1;
  manifests: Record<string, StoredSignature[]>;
}

/** The folder of the signature files under a store root. */
export function signaturesDir(root: string): string {
  return join(root, 'signatures');
}

/** The signature file of the image `id` (`sha256:<hex>`). */
export function signaturesPath(root: string, id: string): string {
  const hex = id.slice(id.indexOf(':') + 1);
  if (!/^[0-9a-f]{32,128}$/.test(hex)) throw new BerthError('INTERNAL', `not an image ID: ${id}`);
  return join(signaturesDir(root), `${hex}.json`);
}

const toStored = (s: UnverifiedSignature): StoredSignature =>
  s.kind === 'simple-signing'
    ? { kind: 'simple-signing', bytes: Buffer.from(s.bytes).toString('base64') }
    : { kind: 'sigstore', payload: Buffer.from(s.payload).toString('base64'), annotations: { ...s.annotations } };

function fromStored(s: StoredSignature, where: string): UnverifiedSignature {
  if (s.kind === 'simple-signing' && typeof s.bytes === 'string') return { kind: 'simple-signing', bytes: new Uint8Array(Buffer.from(s.bytes, 'base64')) };
  if (s.kind === 'sigstore' && typeof s.payload === 'string' && typeof s.annotations === 'object' && s.annotations !== null) {
    return { kind: 'sigstore', payload: new Uint8Array(Buffer.from(s.payload, 'base64')), annotations: { ...s.annotations } };
  }
  throw new BerthError('IO', `${where}: a signature of an unknown kind`);
}

/** The signatures kept for the image `id`: none when it has no file. */
export async function readImageSignatures(root: string, id: string): Promise<SignaturesByDigest> {
  const path = signaturesPath(root, id);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return {};
    throw e;
  }
  const parsed = JSON.parse(text) as Partial<SignaturesFile>;
  const out: SignaturesByDigest = {};
  for (const [digest, list] of Object.entries(parsed.manifests ?? {})) out[digest] = list.map((s) => fromStored(s, path));
  return out;
}

/**
 * Replaces the image's signature file with `byDigest` (no file when it holds none). The caller holds
 * the store lock, so that the file and the image record change together.
 */
export async function writeImageSignatures(root: string, id: string, byDigest: SignaturesByDigest): Promise<void> {
  const manifests: Record<string, StoredSignature[]> = {};
  for (const [digest, list] of Object.entries(byDigest)) if (list.length > 0) manifests[digest] = list.map(toStored);
  if (Object.keys(manifests).length === 0) return removeImageSignatures(root, id);
  await makeDirs(signaturesDir(root), 0o700);
  // Every write holds the store lock: a temp file here is one a killed writer left (writeFileAtomic's `.NAME.tmp-…`).
  for (const name of await readdir(signaturesDir(root))) if (name.startsWith('.')) await rm(join(signaturesDir(root), name), { force: true });
  const file: SignaturesFile = { version: 1, manifests };
  await writeFileAtomic(signaturesPath(root, id), JSON.stringify(file), 0o600);
}

/** Removes the image's signature file, if any (rmi; the caller holds the store lock). */
export async function removeImageSignatures(root: string, id: string): Promise<void> {
  // A record whose ID is not a digest (a test's, a hand-edited store's) never had a file: nothing to remove.
  if (!/^[0-9a-f]{32,128}$/.test(id.slice(id.indexOf(':') + 1))) return;
  await rm(signaturesPath(root, id), { force: true });
}
