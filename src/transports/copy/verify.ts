/** Verified streaming: the copy's own check of every blob it moves, whatever the source promises. */
import { createStreamHash, type StreamHash } from '../../util/hash.js';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { parseDigest } from '../../oci/digest.js';
import { BerthError } from '../../util/errors.js';
import { tooLargeError } from '../../util/read-limits.js';

/**
 * Bytes a VerifyingStream takes in ahead of its reader. Node's default (64 KiB, one socket read)
 * paused a download at every stall of the writes and the unpacking behind it, and each resume waited
 * on the sender: a 150 MB layer streamed at ~160 MB/s. With a MiB of slack the socket keeps being
 * read and a pull of the benchmark image takes ~20 % less time (BENCHMARKS.md, pull-push).
 */
const READ_AHEAD = 1 << 20;

/**
 * A pass-through that fails (an error instead of its end) unless what passed hashes to `digest` and,
 * when given, is `size` bytes: so a destination that takes the stream never sees a clean end of bad bytes.
 * The last chunk is held back until the digest is known, so that a reader behind it (a decompressor) meets
 * the digest error before the broken end of the data.
 */
export class VerifyingStream extends Transform {
  private readonly hash: StreamHash;
  private seen = 0;
  private held: Buffer | undefined;

  constructor(
    private readonly digest: string,
    private readonly size: number | undefined,
    private readonly what: string,
  ) {
    super({ readableHighWaterMark: READ_AHEAD });
    this.hash = createStreamHash(parseDigest(digest).algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.size !== undefined && this.seen > this.size) {
      cb(new BerthError('SIZE_MISMATCH', `${this.what}: more than the ${this.size} bytes its descriptor gives`));
      return;
    }
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    cb(null, previous);
  }

  override _flush(cb: TransformCallback): void {
    if (this.size !== undefined && this.seen !== this.size) {
      cb(new BerthError('SIZE_MISMATCH', `${this.what}: ${this.seen} bytes, not the ${this.size} its descriptor gives`));
      return;
    }
    const got = `${parseDigest(this.digest).algorithm}:${this.hash.hex()}`;
    if (got !== this.digest) {
      // The store's words for it (store/blobs.ts), whichever transport the bytes came from.
      cb(new BerthError('DIGEST_MISMATCH', `content does not match its digest: expected ${this.digest}, got ${got}`));
      return;
    }
    cb(null, this.held);
  }
}

/** `source` through a VerifyingStream, the source's errors carried over. */
export function verified(source: Readable, digest: string, size: number | undefined, what: string): Readable {
  const check = new VerifyingStream(digest, size, what);
  source.on('error', (e) => check.destroy(e));
  check.on('close', () => source.destroy());
  // Read by whoever takes it, maybe after a few awaits: the error stays on the stream for its reader.
  check.on('error', () => undefined);
  return source.pipe(check);
}

/** A small blob (a config) read whole and verified; one over `max` bytes is refused. */
export async function readVerified(source: Readable, digest: string, size: number | undefined, max: number, what: string): Promise<Buffer> {
  if (size !== undefined && size > max) {
    source.destroy();
    throw tooLargeError(what, size, max);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of verified(source, digest, size, what)) {
    total += (c as Buffer).length;
    if (total > max) {
      source.destroy();
      throw tooLargeError(what, undefined, max);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
