/**
 * cosign's key files, as skopeo's `generate-sigstore-key` writes them and `--sign-by-sigstore-private-key`
 * reads them: `P.pub` a PKIX public key (PEM `PUBLIC KEY`), `P.private` the PKCS#8 DER of an ECDSA P-256
 * key encrypted as go-securesystemslib's `encrypted` package does (scrypt from the passphrase, then
 * nacl/secretbox), its JSON wrapped as PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign's older name,
 * `ENCRYPTED COSIGN PRIVATE KEY`, is read too). An empty passphrase is a passphrase, as cosign allows.
 */
import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from '../util/crypto.js';
import { BerthError } from '../util/errors.js';

export const SIGSTORE_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED SIGSTORE PRIVATE KEY';
const COSIGN_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED COSIGN PRIVATE KEY';

/** scrypt's parameters as securesystemslib names its strengths (legacy, standard, OWASP); only these are read back. */
const SCRYPT_PARAMS = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
] as const;
type ScryptParams = (typeof SCRYPT_PARAMS)[number];
/** cosign writes the legacy strength, which every cosign and containers/image release reads. */
const WRITE_PARAMS: ScryptParams = SCRYPT_PARAMS[0];
const SALT_BYTES = 32;
/** secretbox's key and nonce (XSalsa20-Poly1305: fixed sizes, tweetnacl's keyLength and nonceLength). */
const KEY_BYTES = 32;
const NONCE_BYTES = 24;

/**
 * tweetnacl, loaded by the two calls that seal and open a key: at its load it loads node:crypto
 * (~5 ms), and every pull imports this module for the policy's public keys, which need neither.
 */
async function secretbox(): Promise<typeof import('tweetnacl').secretbox> {
  return (await import('tweetnacl')).default.secretbox;
}

/** The encrypted key's JSON, in the field order Go's encoding/json writes it. */
interface EncryptedKey {
  kdf: { name: 'scrypt'; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: 'nacl/secretbox'; nonce: string };
  ciphertext: string;
}

export interface SigstoreKeyPair {
  /** `P.private`'s text. */
  privateKeyPem: string;
  /** `P.pub`'s text. */
  publicKeyPem: string;
}

/** A new ECDSA P-256 key pair, the private half encrypted with `passphrase`. */
export async function generateSigstoreKeyPair(passphrase: Uint8Array): Promise<SigstoreKeyPair> {
  const { privateKey, publicKey } = nodeCrypto().generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    privateKeyPem: await encryptSigstorePrivateKey(der, passphrase),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** PKCS#8 DER encrypted into cosign's PEM (`params` only for tests: a stronger scrypt). */
export async function encryptSigstorePrivateKey(pkcs8Der: Uint8Array, passphrase: Uint8Array, params: ScryptParams = WRITE_PARAMS): Promise<string> {
  const crypto = nodeCrypto();
  const salt = crypto.randomBytes(SALT_BYTES);
  const nonce = crypto.randomBytes(NONCE_BYTES);
  const key = await scrypt(passphrase, salt, params);
  const doc: EncryptedKey = {
    kdf: { name: 'scrypt', params: { N: params.N, r: params.r, p: params.p }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from((await secretbox())(pkcs8Der, nonce, key)).toString('base64'),
  };
  return pemEncode(SIGSTORE_PRIVATE_KEY_PEM_TYPE, Buffer.from(JSON.stringify(doc)));
}

/**
 * The private key in cosign's encrypted PEM, decrypted with `passphrase` (`what` names the file in
 * errors). A wrong passphrase and a damaged file are one failure: secretbox cannot tell them apart.
 */
export async function decryptSigstorePrivateKey(pem: string | Uint8Array, passphrase: Uint8Array, what = 'the private key'): Promise<KeyObject> {
  const block = pemDecode(typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8'));
  if (!block) throw new BerthError('USAGE', `${what}: not a PEM file`);
  if (block.type !== SIGSTORE_PRIVATE_KEY_PEM_TYPE && block.type !== COSIGN_PRIVATE_KEY_PEM_TYPE)
    throw new BerthError('USAGE', `${what}: unsupported PEM type ${JSON.stringify(block.type)} (expected ${SIGSTORE_PRIVATE_KEY_PEM_TYPE})`);
  const doc = parseEncryptedKey(block.bytes, what);
  const params = SCRYPT_PARAMS.find((p) => p.N === doc.kdf.params.N && p.r === doc.kdf.params.r && p.p === doc.kdf.params.p);
  if (!params) throw new BerthError('USAGE', `${what}: unsupported scrypt parameters`);
  const salt = base64Field(doc.kdf.salt, 'kdf.salt', what);
  const nonce = base64Field(doc.cipher.nonce, 'cipher.nonce', what);
  if (nonce.length !== NONCE_BYTES) throw new BerthError('USAGE', `${what}: incorrect nonce size`);
  const sealed = base64Field(doc.ciphertext, 'ciphertext', what);
  const der = (await secretbox()).open(sealed, nonce, await scrypt(passphrase, salt, params));
  if (!der) throw new BerthError('USAGE', `${what}: decryption failed (wrong passphrase?)`);
  let key: KeyObject;
  try {
    key = nodeCrypto().createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new BerthError('USAGE', `${what}: parsing private key: ${(e as Error).message}`, { cause: e });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new BerthError('USAGE', `${what}: unsupported key type (berth signs with ECDSA P-256 keys, as cosign makes)`);
  return key;
}

/** A public key from PEM (`PUBLIC KEY`) or DER (SubjectPublicKeyInfo) bytes. */
export function readSigstorePublicKey(data: Uint8Array | string, what = 'the public key'): KeyObject {
  const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const text = buf.toString('latin1');
  try {
    if (text.includes('-----BEGIN ')) {
      const block = pemDecode(text);
      if (block?.type !== 'PUBLIC KEY') throw new Error(`expected a PEM "PUBLIC KEY" block`);
      return nodeCrypto().createPublicKey({ key: block.bytes, format: 'der', type: 'spki' });
    }
    return nodeCrypto().createPublicKey({ key: buf, format: 'der', type: 'spki' });
  } catch (e) {
    throw new BerthError('USAGE', `${what}: not a public key: ${(e as Error).message}`, { cause: e });
  }
}

function scrypt(passphrase: Uint8Array, salt: Uint8Array, p: ScryptParams): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is just what N=32768, r=8 needs; the stronger strengths need more.
  const maxmem = 256 * p.N * p.r;
  return new Promise((resolve, reject) =>
    nodeCrypto().scrypt(passphrase, salt, KEY_BYTES, { N: p.N, r: p.r, p: p.p, maxmem }, (e, key) => (e ? reject(e) : resolve(key))),
  );
}

function parseEncryptedKey(bytes: Buffer, what: string): EncryptedKey {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new BerthError('USAGE', `${what}: the encrypted key is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const d = doc as Partial<EncryptedKey> | null;
  const kdf = d?.kdf;
  const cipher = d?.cipher;
  if (typeof kdf !== 'object' || kdf === null || kdf.name !== 'scrypt')
    throw new BerthError('USAGE', `${what}: unknown kdf name ${JSON.stringify(kdf && (kdf as { name?: unknown }).name)}`);
  if (typeof cipher !== 'object' || cipher === null || cipher.name !== 'nacl/secretbox')
    throw new BerthError('USAGE', `${what}: unknown cipher name ${JSON.stringify(cipher && (cipher as { name?: unknown }).name)}`);
  if (typeof kdf.params !== 'object' || kdf.params === null) throw new BerthError('USAGE', `${what}: unsupported scrypt parameters`);
  return d as EncryptedKey;
}

/** A base64 field of the key (Go's []byte): standard alphabet, padded. */
function base64Field(v: unknown, field: string, what: string): Uint8Array {
  if (typeof v !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v))
    throw new BerthError('USAGE', `${what}: ${field} is not base64`);
  return Buffer.from(v, 'base64');
}

/** PEM as Go's encoding/pem writes it: 64 columns of base64. */
export function pemEncode(type: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** The first PEM block of `text` (headers are not used by these files and are refused). */
export function pemDecode(text: string): { type: string; bytes: Buffer } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  return { type: m[1]!, bytes: Buffer.from(m[2]!.replace(/[\r\n]/g, ''), 'base64') };
}
