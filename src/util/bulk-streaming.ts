import type * as V8 from 'node:v8';

/**
 * How V8 collects garbage while a command streams bytes in bulk (a pull's layers, a load's
 * archive): with the external memory that Buffers hold counted in the heap's own growing limit
 * (`--external-memory-accounted-in-global-limit`), instead of a full collection each time that
 * memory passes a small fixed margin over what the last collection left.
 *
 * Why: socket reads and gunzip output are Buffers outside V8's heap that live for one chunk. A
 * 182 MB pull started 35-40 full collections (~380 ms of its main thread's time, the thread that
 * also hashes and unpacks); with the flag ~18 (~90 ms), the pull 15-20 % faster, its peak RSS
 * +14 MB (BENCHMARKS.md, "pull-push").
 *
 * Why not for the whole process (a `node` option in bin/berth): Node's compile cache keeps code
 * compiled under one set of V8 flags, and with the flag from the start every command lost it
 * (`version` 48 → 58 ms). Set only around the transfer and reset after it, the code of the
 * command is loaded and cached as always.
 */
export const BULK_GC_FLAG = 'external-memory-accounted-in-global-limit';

/** Transfers at least this big are worth the switch (a few small layers never start a collection). */
export const BULK_STREAMING_MIN = 16 * 1024 * 1024;

let active = 0;
let v8: typeof V8 | undefined;

/** Runs `fn` with the bulk-streaming collection policy; concurrent calls share it until the last ends. */
export async function duringBulkStreaming<T>(fn: () => Promise<T>): Promise<T> {
  v8 ??= process.getBuiltinModule('node:v8');
  if (active++ === 0) v8.setFlagsFromString(`--${BULK_GC_FLAG}`);
  try {
    return await fn();
  } finally {
    if (--active === 0) v8.setFlagsFromString(`--no-${BULK_GC_FLAG}`);
  }
}
