import { nodeCrypto } from './crypto.js';
import { nativeCalls, type NativeCalls } from './native.js';

/** A running SHA-256 or SHA-512 of a stream of bytes. */
export interface StreamHash {
  /** Adds `data` (a string as UTF-8). */
  update(data: Uint8Array | string): void;
  /** The digest of everything added, in lower-case hex; the hash takes no more after it. */
  hex(): string;
}

export type HashAlgorithm = 'sha256' | 'sha512';

let native: Pick<NativeCalls, 'hashStart' | 'hashUpdate' | 'hashDigest'> | null | undefined;

function nativeHash(): typeof native {
  if (native === undefined) {
    native = null;
    const calls = nativeCalls();
    try {
      // A Node without the OpenSSL symbols the addon looks for throws here, once.
      if (calls) calls.hashDigest(calls.hashStart('sha256'));
      native = calls ?? null;
    } catch {
      native = null;
    }
  }
  return native;
}

/**
 * A hash for a stream: the native addon's where it is built, else node:crypto's. Both are
 * OpenSSL's digest; the addon's spares a short command (a pull whose layers are all present, an
 * inspect) node:crypto's load, ~5 ms of Node compiling its own modules, for a few small digests.
 */
export function createStreamHash(algorithm: HashAlgorithm): StreamHash {
  const calls = nativeHash();
  if (calls) {
    const h = calls.hashStart(algorithm);
    return {
      update: (data) => calls.hashUpdate(h, typeof data === 'string' ? Buffer.from(data, 'utf8') : data),
      hex: () => calls.hashDigest(h),
    };
  }
  const h = nodeCrypto().createHash(algorithm);
  return {
    update: (data) => {
      h.update(data);
    },
    hex: () => h.digest('hex'),
  };
}

/** The hex digest of `data` (a string as UTF-8). */
export function hashHex(algorithm: HashAlgorithm, data: Uint8Array | string): string {
  const h = createStreamHash(algorithm);
  h.update(data);
  return h.hex();
}
