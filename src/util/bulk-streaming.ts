import type * as V8 from 'node:v8';
import { collector } from './gc.js';

/**
 * How V8 collects garbage while a command streams bytes in bulk (a pull's layers, a load's
 * archive). Socket reads and gunzip output are Buffers outside V8's heap that live for one chunk;
 * V8 itself frees them only in a full collection, which it starts each time they pass a small
 * fixed margin over what the last one left: 35-40 full collections in a 182 MB pull, ~380 ms of
 * the main thread (the thread that also hashes and unpacks) and more on V8's own threads. Instead:
 * - the young generation is collected every BULK_MINOR_EVERY bytes streamed (`bulkStreamed`),
 *   about 1 ms each, which frees the dead Buffers' memory while they are still young;
 * - and V8 counts that memory in its heap's own growing limit
 *   (`--external-memory-accounted-in-global-limit`) rather than against the fixed margin.
 * Together: one full collection per pull, ~25 of the young generation, the pull 20-25 % faster in
 * wall and CPU time (BENCHMARKS.md, "Garbage collection in a pull"). Either alone is not enough:
 * young collections without the flag still left 35 full ones, the flag alone ~18.
 *
 * Why around the transfer and not for the whole process (a `node` option in bin/berth): Node's
 * compile cache keeps code compiled under one set of V8 flags, and with the flag from the start
 * every command lost it (`version` 48 → 58 ms). Set only while a transfer runs and reset after
 * it, the command's code is loaded and cached as always.
 */
const BULK_GC_FLAG = 'external-memory-accounted-in-global-limit';

/** Transfers at least this big are worth it (a few small layers never start a collection). */
export const BULK_STREAMING_MIN = 16 * 1024 * 1024;

/**
 * Bytes streamed between young-generation collections: 2, 4 and 8 MiB measured alike in time, 16
 * slower. Since a download reads 1 MiB ahead (transports/copy/verify.ts), its Buffers live a little
 * longer, and at 8 MiB more of them survived into the old generation: a pull's peak RSS was 135 MB,
 * 121 MB at 4 MiB, in the same time.
 */
const BULK_MINOR_EVERY = 4 * 1024 * 1024;

let active = 0;
let sinceMinor = 0;
let v8: typeof V8 | undefined;

/** Runs `fn` with the bulk-streaming collection policy; concurrent calls share it until the last ends. */
export async function duringBulkStreaming<T>(fn: () => Promise<T>): Promise<T> {
  v8 ??= process.getBuiltinModule('node:v8');
  if (active++ === 0) v8.setFlagsFromString(`--${BULK_GC_FLAG}`);
  try {
    return await fn();
  } finally {
    if (--active === 0) {
      v8.setFlagsFromString(`--no-${BULK_GC_FLAG}`);
      sinceMinor = 0;
    }
  }
}

/** Tells that `bytes` more were streamed; under duringBulkStreaming, collects the young generation now and then. */
export function bulkStreamed(bytes: number): void {
  if (active === 0) return;
  sinceMinor += bytes;
  if (sinceMinor < BULK_MINOR_EVERY) return;
  sinceMinor = 0;
  collector()?.({ type: 'minor' });
}
