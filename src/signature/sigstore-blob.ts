/**
 * containers/image's file format for a sigstore signature outside a registry (the `signature-N` files
 * of a `dir:` image, a lookaside store): a zero byte, `sigstore-json`, a newline, then JSON
 * `{"mimeType":…,"payload":<base64>,"annotations":{…}}`.
 */
import { BerthError } from '../util/errors.js';
import { SIGSTORE_SIGNATURE_MEDIA_TYPE, type SigstoreSignature } from './sigstore.js';
import type { UnverifiedSignature } from './types.js';

const PREFIX = Buffer.from('\0sigstore-json\n');

/** A sigstore signature as a file's bytes. */
export function sigstoreSignatureBlob(signature: SigstoreSignature, mimeType: string = SIGSTORE_SIGNATURE_MEDIA_TYPE): Buffer {
  const json = JSON.stringify({ mimeType, payload: Buffer.from(signature.payload).toString('base64'), annotations: signature.annotations });
  return Buffer.concat([PREFIX, Buffer.from(json)]);
}

/** A `sigstore-json` file parsed; undefined when the file is another format (a GPG simple signature). */
export function parseSigstoreSignatureBlob(blob: Uint8Array, what = 'signature'): (SigstoreSignature & { mimeType: string }) | undefined {
  const b = Buffer.from(blob);
  if (b.length < PREFIX.length || !b.subarray(0, PREFIX.length).equals(PREFIX)) return undefined;
  let doc: { mimeType?: unknown; payload?: unknown; annotations?: unknown };
  try {
    doc = JSON.parse(b.subarray(PREFIX.length).toString('utf8')) as typeof doc;
  } catch (e) {
    throw new BerthError('SIGNATURE_INVALID', `${what}: invalid sigstore-json: ${(e as Error).message}`, { cause: e });
  }
  const annotations = doc.annotations ?? {};
  if (
    typeof doc !== 'object' ||
    doc === null ||
    typeof doc.mimeType !== 'string' ||
    typeof doc.payload !== 'string' ||
    typeof annotations !== 'object' ||
    annotations === null ||
    Object.values(annotations).some((v) => typeof v !== 'string')
  )
    throw new BerthError('SIGNATURE_INVALID', `${what}: invalid sigstore-json: expected mimeType, payload and annotations`);
  return { mimeType: doc.mimeType, payload: Buffer.from(doc.payload, 'base64'), annotations: annotations as Record<string, string> };
}

/**
 * A signature file as found (a lookaside's or a `dir:` image's `signature-N`): containers/image's
 * `sigstore-json` blob, or else a GPG signed message.
 */
export function signatureFromBlob(bytes: Uint8Array, what = 'signature'): UnverifiedSignature {
  const sigstore = parseSigstoreSignatureBlob(bytes, what);
  return sigstore ? { kind: 'sigstore', payload: sigstore.payload, annotations: sigstore.annotations } : { kind: 'simple-signing', bytes };
}

/** The file a signature is stored as, the reverse of signatureFromBlob. */
export function blobOfSignature(signature: UnverifiedSignature): Uint8Array {
  return signature.kind === 'sigstore' ? sigstoreSignatureBlob({ payload: signature.payload, annotations: signature.annotations }) : signature.bytes;
}
