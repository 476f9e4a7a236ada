import { Transform } from 'node:stream';

/**
 * Passes bytes on in pieces of at least `bytes` (the last one may be smaller). A socket hands a
 * download over in pieces of up to 64 KiB; written to a file as they come, each is its own write
 * and thread-pool round trip, which cost more than the bytes on a large blob.
 */
export function gatherChunks(bytes = 1 << 20): Transform {
  let parts: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= bytes) {
        const out = Buffer.concat(parts, size);
        parts = [];
        size = 0;
        done(null, out);
      } else done();
    },
    flush(done) {
      done(null, size > 0 ? Buffer.concat(parts, size) : undefined);
    },
  });
}
