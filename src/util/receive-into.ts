// Receiving a stream's bytes into a file (a registry upload's request body, a blob the store takes):
// straight to the hash and the file, in large writes, with a bounded amount in memory.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * Bytes gathered per write. Socket reads arrive in pieces of up to 64 KiB: one write each was a
 * thread-pool round trip per piece (3,200 for 200 MB), the largest cost of receiving a push.
 */
const WRITE_BYTES = 1 << 20;
/**
 * Written bytes after which the kernel is asked (in the background) to start putting them on disk,
 * so that the fsync before publishing finds little left to do instead of the whole blob.
 */
const SYNC_EVERY_BYTES = 32 << 20;

/**
 * Copies `data` into `fh` from `position`, handing every chunk to `onChunk` first (the running hash).
 * At most one write is in flight while the next one gathers, so memory stays near 2 MiB whatever the
 * size; the source is simply not read meanwhile (TCP pushes back on the client). Resolves with the
 * bytes written; rejects if the source fails or ends early, once no write or sync is still running.
 */
export async function receiveInto(data: Readable, fh: FileHandle, position: number, onChunk: (chunk: Buffer) => void): Promise<number> {
  let pos = position;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let inflight: Promise<void> | undefined;
  let syncing: Promise<void> | undefined;
  let syncedTo = position;
  const write = async (bufs: Buffer[], at: number) => {
    await writeAll(fh, bufs, at);
    if (at + total(bufs) - syncedTo >= SYNC_EVERY_BYTES && !syncing) {
      syncedTo = at + total(bufs);
      syncing = fh.datasync().finally(() => (syncing = undefined));
    }
  };
  const start = () => {
    const bufs = batch;
    inflight = write(bufs, pos);
    inflight.catch(() => undefined); // awaited below; not unhandled meanwhile
    pos += batchBytes;
    batch = [];
    batchBytes = 0;
  };
  try {
    for await (const chunk of data) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      onChunk(b);
      batch.push(b);
      batchBytes += b.length;
      if (batchBytes >= WRITE_BYTES) {
        await inflight;
        start();
      }
    }
    await inflight;
    if (batchBytes > 0) {
      start();
      await inflight;
    }
    return pos - position;
  } finally {
    await inflight?.catch(() => undefined);
    await syncing?.catch(() => undefined);
  }
}

function total(bufs: Buffer[]): number {
  let n = 0;
  for (const b of bufs) n += b.length;
  return n;
}

/** One writev, repeated for whatever a short write left. */
async function writeAll(fh: FileHandle, bufs: Buffer[], position: number): Promise<void> {
  let rest = bufs;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) skip -= b.length;
      else {
        next.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    rest = next;
  }
}
