import { pipeline, PassThrough, Readable, type Duplex } from 'node:stream';
import { constants as zlibConstants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from 'node:zlib';
import { BerthError } from '../util/errors.js';

/** The layer compressions berth reads and writes. */
export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * Output chunk of gunzip. zlib's default (16 KiB) makes a 150 MB layer ~10,000 chunks, each a trip
 * through the thread pool, the tar reader, the diff ID hash and a write; 128 KiB costs a third less
 * CPU for the same bytes.
 */
const GUNZIP_CHUNK = 128 * 1024;

/** Bytes autoDecompress looks at; the longest magic (xz) is 6. */
const PEEK_BYTES = 6;

function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

/**
 * The compression of a blob from its first bytes (at least 6 for a sure answer). bzip2 and xz are
 * recognised only to refuse them with a clear message (ARCHIVE_INVALID): OCI layers use neither.
 */
export function detectCompression(head: Uint8Array): Compression {
  if (startsWith(head, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  // A zstd stream may also begin with a skippable frame (magic 0x184D2A50..5F, little-endian).
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  if (startsWith(head, [0x42, 0x5a, 0x68])) {
    throw new BerthError('ARCHIVE_INVALID', 'bzip2-compressed data is not supported (only gzip and zstd are)');
  }
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) {
    throw new BerthError('ARCHIVE_INVALID', 'xz-compressed data is not supported (only gzip and zstd are)');
  }
  return 'none';
}

/**
 * A stream that decompresses what is written to it, in Node's zlib (zstd too, since Node 22: no
 * child process per layer); corrupt data surfaces as an ARCHIVE_INVALID stream error naming the
 * compression.
 */
export function decompressStream(kind: Compression): Duplex {
  switch (kind) {
    case 'gzip':
      return zlibErrors(createGunzip({ chunkSize: GUNZIP_CHUNK }), 'gzip');
    case 'zstd':
      return zlibErrors(createZstdDecompress({ chunkSize: GUNZIP_CHUNK }), 'zstd');
    case 'none':
      return new PassThrough();
  }
}

/**
 * A stream that compresses what is written to it. `level` is 1-9 for gzip (default 6), 1-19 for
 * zstd (default 3, with the frame checksum the zstd tool writes). Both run single-threaded, so the
 * same input always gives the same bytes.
 */
export function compressStream(kind: Compression, level?: number): Duplex {
  switch (kind) {
    case 'gzip':
      return createGzip({ level: level ?? zlibConstants.Z_DEFAULT_COMPRESSION });
    case 'zstd':
      return createZstdCompress({ params: { [zlibConstants.ZSTD_c_compressionLevel]: level ?? 3, [zlibConstants.ZSTD_c_checksumFlag]: 1 } });
    case 'none':
      return new PassThrough();
  }
}

/** zlib's errors ("incorrect header check") say nothing of the format: give them context and a code. */
function zlibErrors(stream: Duplex, format: 'gzip' | 'zstd'): Duplex {
  const destroy = stream.destroy.bind(stream);
  stream.destroy = (err?: Error) => {
    if (err && !(err instanceof BerthError)) {
      err = new BerthError('ARCHIVE_INVALID', `${format} decompression failed: ${err.message}`, { cause: err });
    }
    return destroy(err);
  };
  return stream;
}

/**
 * Looks at the first bytes of `input` and returns its decompressed content (or `input` itself
 * when it is not compressed). Errors of `input` surface on the returned stream, and destroying the
 * returned stream destroys `input`. Rejects for bzip2 and xz.
 */
export async function autoDecompress(input: Readable): Promise<Readable> {
  return (await detectAndDecompress(input)).stream;
}

/** autoDecompress(), also telling which compression it found. */
export async function detectAndDecompress(input: Readable): Promise<{ stream: Readable; compression: Compression }> {
  const { head, ended } = await peek(input, PEEK_BYTES);
  const kind = detectCompression(head);
  // Once 'end' has been emitted nothing can be put back: replay the bytes from a new stream.
  const source = ended ? Readable.from(head.length > 0 ? [head] : [], { objectMode: false }) : input;
  if (!ended && head.length > 0) input.unshift(head);
  if (kind === 'none') return { stream: source, compression: kind };
  const out = decompressStream(kind);
  pipeline(source, out, () => {
    // pipeline has already destroyed `out` with any error, which is where the consumer sees it.
  });
  return { stream: out, compression: kind };
}

/**
 * Reads at least `n` bytes (fewer at the end of the stream) without switching it to flowing. The
 * listeners stay on for the whole peek: 'end' can come in the same tick as the last 'readable'.
 */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = input.readableEnded;
  let closed = false;
  let error: unknown;
  let wake: (() => void) | undefined;
  const onReadable = (): void => wake?.();
  const onEnd = (): void => {
    ended = true;
    wake?.();
  };
  const onError = (e: unknown): void => {
    error = e;
    wake?.();
  };
  const onClose = (): void => {
    closed = true;
    wake?.();
  };
  input.on('readable', onReadable).on('end', onEnd).on('error', onError).on('close', onClose);
  try {
    while (length < n && !ended) {
      if (error !== undefined) throw error;
      const chunk = input.read() as Buffer | string | null;
      if (chunk !== null) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        chunks.push(buf);
        length += buf.length;
        continue;
      }
      if (ended) break;
      if (closed) throw input.errored ?? new BerthError('IO', 'stream closed before its end');
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    input.off('readable', onReadable).off('end', onEnd).off('error', onError).off('close', onClose);
  }
  return { head: Buffer.concat(chunks), ended };
}
