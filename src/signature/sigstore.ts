/**
 * Sigstore signatures with a key, in cosign's format (no Fulcio, no Rekor): the payload is the
 * simple-signing JSON with cosign's type, `{"critical":{"identity":{"docker-reference":…},"image":
 * {"docker-manifest-digest":…},"type":"cosign container image signature"},"optional":…}`, signed
 * ECDSA-SHA256 (ASN.1 DER) and carried base64 in the annotation `dev.cosignproject.cosign/signature`
 * of the attachment layer that holds the payload (sigstore-attachments.ts).
 */
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseDigest } from '../oci/digest.js';
import { nodeCrypto } from '../util/crypto.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { parseStrictJson } from './_strict-json.js';
import { readSigstorePublicKey } from './sigstore-keys.js';
import type { SignedClaim, SigstoreKey, Verifiers } from './types.js';

/** The media type of a signature's payload layer (any other layer of an attachment is not a signature). */
export const SIGSTORE_SIGNATURE_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** The layer annotation holding the base64 signature. */
export const SIGSTORE_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** critical.type of cosign's payload (GPG simple signing says `atomic container signature`). */
export const SIGSTORE_SIGNATURE_TYPE = 'cosign container image signature';

export interface SigstoreSignature {
  payload: Uint8Array;
  annotations: Record<string, string>;
}

/** What a payload says, once parsed: the claim and cosign's optional fields berth knows. */
export interface SigstorePayload extends SignedClaim {
  creator?: string;
  timestamp?: number;
}

/** The payload bytes for `claim` (optional fields as containers/image writes them; none gives cosign's `null`). */
export function makeSigstorePayload(claim: SignedClaim, optional: { creator?: string; timestamp?: number } = {}): Uint8Array {
  parseDigest(claim.manifestDigest);
  if (claim.dockerReference === '') throw new BerthError('INTERNAL', 'a signature needs a docker reference');
  const extras = {
    ...(optional.creator !== undefined ? { creator: optional.creator } : {}),
    ...(optional.timestamp !== undefined ? { timestamp: optional.timestamp } : {}),
  };
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': claim.dockerReference },
        image: { 'docker-manifest-digest': claim.manifestDigest },
        type: SIGSTORE_SIGNATURE_TYPE,
      },
      optional: Object.keys(extras).length > 0 ? extras : null,
    }),
  );
}

/** Signs `payload` with an ECDSA P-256 key: the signature and its annotation, ready to attach. */
export function signSigstorePayload(privateKey: KeyObject, payload: Uint8Array): SigstoreSignature {
  const signature = nodeCrypto().sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' });
  return { payload, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signature.toString('base64') } };
}

/** The signature of `claim` by `privateKey`, as `push --sign-by-sigstore-private-key` attaches it. */
export function createSigstoreSignature(privateKey: KeyObject, claim: SignedClaim, optional: { creator?: string; timestamp?: number } = {}): SigstoreSignature {
  return signSigstorePayload(privateKey, makeSigstorePayload(claim, optional));
}

/**
 * Verifiers.sigstore: the signature in the annotation must verify over the exact payload bytes with
 * the public key, and only then is the payload parsed (strictly) into the claim it makes. Whether the
 * claim fits the image is the policy's question.
 */
export async function verifySigstoreSignature(signature: SigstoreSignature, key: SigstoreKey): Promise<SignedClaim> {
  const publicKey = await loadPublicKey(key);
  const encoded = signature.annotations[SIGSTORE_SIGNATURE_ANNOTATION];
  if (encoded === undefined) throw invalid(`missing ${SIGSTORE_SIGNATURE_ANNOTATION} annotation`);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) throw invalid('the signature annotation is not base64');
  if (!verifyWithKey(publicKey, signature.payload, Buffer.from(encoded, 'base64')))
    throw invalid('cryptographic signature verification failed: not signed by the given public key, or the payload was changed');
  const { dockerReference, manifestDigest } = parseSigstorePayload(signature.payload);
  return { dockerReference, manifestDigest };
}

/** The sigstore half of the Verifiers the policy evaluates with (simple signing is gpg.ts's). */
export const sigstoreVerifier: Verifiers['sigstore'] = verifySigstoreSignature;

/**
 * The payload parsed as containers/image does: exactly `critical` and `optional` at the top, exactly
 * `type`, `image` and `identity` in critical (each with exactly its one field), the type cosign's, the
 * digest valid; optional null or an object whose creator is a string and timestamp an integer (other
 * optional fields ignored). No key may repeat anywhere.
 */
export function parseSigstorePayload(bytes: Uint8Array): SigstorePayload {
  let doc: unknown;
  try {
    doc = parseStrictJson(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw invalid(`the payload is not valid JSON: ${(e as Error).message}`);
  }
  const top = exactObject(doc, ['critical', 'optional'], 'the payload');
  const critical = exactObject(top['critical'], ['type', 'image', 'identity'], 'critical');
  if (critical['type'] !== SIGSTORE_SIGNATURE_TYPE) throw invalid(`unrecognized signature type ${JSON.stringify(critical['type'])}`);
  const image = exactObject(critical['image'], ['docker-manifest-digest'], 'critical.image');
  const digest = image['docker-manifest-digest'];
  if (typeof digest !== 'string') throw invalid('critical.image.docker-manifest-digest is not a string');
  try {
    parseDigest(digest);
  } catch (e) {
    throw invalid(`invalid docker-manifest-digest value ${JSON.stringify(digest)}: ${(e as Error).message}`);
  }
  const identity = exactObject(critical['identity'], ['docker-reference'], 'critical.identity');
  const reference = identity['docker-reference'];
  if (typeof reference !== 'string') throw invalid('critical.identity.docker-reference is not a string');
  const out: SigstorePayload = { dockerReference: reference, manifestDigest: digest };
  const optional = top['optional'];
  if (optional !== null) {
    if (typeof optional !== 'object' || Array.isArray(optional)) throw invalid('optional is not an object');
    const o = optional as Record<string, unknown>;
    if ('creator' in o) {
      if (typeof o['creator'] !== 'string') throw invalid('optional.creator is not a string');
      out.creator = o['creator'];
    }
    if ('timestamp' in o) {
      if (typeof o['timestamp'] !== 'number' || !Number.isSafeInteger(o['timestamp'])) throw invalid('optional.timestamp is not an integer');
      out.timestamp = o['timestamp'];
    }
  }
  return out;
}

/** The key a sigstoreSigned requirement names: exactly one of keyPath and keyData. */
async function loadPublicKey(key: SigstoreKey): Promise<KeyObject> {
  if ((key.keyPath === undefined) === (key.keyData === undefined))
    throw new BerthError('USAGE', 'a sigstoreSigned requirement needs exactly one of keyPath and keyData');
  if (key.keyData !== undefined) return readSigstorePublicKey(key.keyData, 'keyData');
  let data: Buffer;
  try {
    data = await readFile(key.keyPath!);
  } catch (e) {
    throw new BerthError('IO', `reading public key ${key.keyPath}: ${errnoCode(e) === 'ENOENT' ? 'no such file' : (e as Error).message}`, { cause: e });
  }
  return readSigstorePublicKey(data, key.keyPath);
}

/** ECDSA (cosign's keys; SHA-256, DER), and the RSA PKCS#1 v1.5 and Ed25519 keys cosign also verifies with. */
function verifyWithKey(key: KeyObject, payload: Uint8Array, signature: Buffer): boolean {
  const crypto = nodeCrypto();
  try {
    switch (key.asymmetricKeyType) {
      case 'ec':
        return crypto.verify('sha256', payload, { key, dsaEncoding: 'der' }, signature);
      case 'rsa':
        return crypto.verify('sha256', payload, key, signature);
      case 'ed25519':
        return crypto.verify(null, payload, key, signature);
      default:
        throw new BerthError('USAGE', `unsupported public key type ${key.asymmetricKeyType}`);
    }
  } catch (e) {
    if (e instanceof BerthError) throw e;
    return false; // a signature that is not even DER
  }
}

function exactObject(v: unknown, fields: string[], what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} is not a JSON object`);
  const keys = Object.keys(v);
  for (const k of keys) if (!fields.includes(k)) throw invalid(`${what} has an unexpected field ${JSON.stringify(k)}`);
  for (const f of fields) if (!keys.includes(f)) throw invalid(`${what} is missing field ${JSON.stringify(f)}`);
  return v as Record<string, unknown>;
}

function invalid(reason: string): BerthError {
  return new BerthError('SIGNATURE_INVALID', `invalid sigstore signature: ${reason}`);
}
