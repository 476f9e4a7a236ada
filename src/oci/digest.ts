import { createStreamHash, hashHex, type StreamHash } from '../util/hash.js';
import { Transform, type TransformCallback } from 'node:stream';
import { BerthError } from '../util/errors.js';

export type Algorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<Algorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** A parsed `algorithm:hex` digest. Only sha256 and sha512 are accepted, as the OCI spec registers. */
export interface Digest {
  readonly algorithm: Algorithm;
  readonly hex: string;
}

export function parseDigest(s: string): Digest {
  const m = DIGEST_RE.exec(s);
  if (!m) throw new BerthError('DIGEST_INVALID', `invalid digest "${s}": expected algorithm:hex`);
  const algorithm = m[1] as Algorithm;
  const hex = m[2]!;
  if (!(algorithm in HEX_LENGTH)) throw new BerthError('DIGEST_INVALID', `invalid digest "${s}": unsupported algorithm "${m[1]}"`);
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new BerthError('DIGEST_INVALID', `invalid digest "${s}": ${algorithm} needs ${HEX_LENGTH[algorithm]} lower-case hex characters`);
  }
  return { algorithm, hex };
}

export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function digestOf(data: string | Uint8Array, algorithm: Algorithm = 'sha256'): string {
  return `${algorithm}:${hashHex(algorithm, data)}`;
}

/** A pass-through stream that hashes and counts what flows through it. */
export class DigestingStream extends Transform {
  private readonly hash: StreamHash;
  private readonly algorithm: Algorithm;
  private result: string | undefined;
  size = 0;

  constructor(algorithm: Algorithm = 'sha256') {
    super();
    this.algorithm = algorithm;
    this.hash = createStreamHash(algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = `${this.algorithm}:${this.hash.hex()}`;
    cb();
  }

  /** The digest of everything that passed; only valid once the stream has ended. */
  get digest(): string {
    if (this.result === undefined) throw new BerthError('INTERNAL', 'digest read before the stream ended');
    return this.result;
  }
}

/** Chain IDs of a layer stack: the first is its diffID, each next is sha256("parent diffID"). */
export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffID of diffIDs) {
    const prev = out.at(-1);
    out.push(prev === undefined ? diffID : digestOf(`${prev} ${diffID}`));
  }
  return out;
}
