// Keeping the registry's memory flat under blob traffic. Every socket read of an upload is a fresh
// buffer outside V8's heap; V8 frees those only when its own small heap fills or their total passes its
// external-memory limit (tens of MB). A registry at rest after one 200 MB push thus held ~35 MB of dead
// buffers for as long as it stayed idle: nothing ran to collect them. Downloads reuse their buffers
// (routes/_send-blob.ts) but still make garbage per request, which one collection clears once idle.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/** Bytes between collections of the young generation while an upload runs (about 1 ms each): every 16 MiB left RSS ~4 MB higher. */
const MINOR_EVERY_BYTES = 4 << 20;
/**
 * Least time between those: each costs a few ms whatever it frees, and a transfer at 1 GB/s collecting
 * every 4 MiB took twice the CPU of one that did not.
 */
const MINOR_MIN_INTERVAL_MS = 25;
/** Quiet time after the last transfer before one full collection (a few ms with the registry's small heap). */
const IDLE_MS = 250;

let gc: Gc | null | undefined;
let sinceMinor = 0;
let lastMinor = 0;
let idleTimer: NodeJS.Timeout | undefined;

function collector(): Gc | null {
  if (gc === undefined) {
    try {
      // V8 reads --expose-gc when it makes a context, so one made after setting it has `gc`. Node warns
      // that flags set at run time may misbehave; if this one does not take, nothing is collected early.
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/**
 * Stops V8 from growing its young generation, for a process that serves a registry. Under a stream of
 * requests V8 doubles it up to 3 × 16 MiB, which RSS keeps for good: with it held at its first size the
 * server sat at 85 MB instead of 105 after the blob benchmarks, at the same throughput (a scavenge of
 * request garbage, nearly all dead, takes well under a millisecond). V8 reads this flag at each growth.
 */
export function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Schedules one full collection for when blob traffic stops (or postpones the one scheduled). */
export function collectWhenIdle(): void {
  if (idleTimer) idleTimer.refresh();
  else {
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      sinceMinor = 0;
      collector()?.({ type: 'major' });
    }, IDLE_MS);
    idleTimer.unref();
  }
}

/** Tells that `bytes` of an upload arrived; collects now and then, and once when traffic stops. */
export function releaseTransferred(bytes: number): void {
  sinceMinor += bytes;
  if (sinceMinor >= MINOR_EVERY_BYTES && Date.now() - lastMinor >= MINOR_MIN_INTERVAL_MS) {
    lastMinor = Date.now();
    sinceMinor = 0;
    collector()?.({ type: 'minor' });
  }
  collectWhenIdle();
}
