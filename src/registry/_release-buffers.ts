// Keeping the registry's memory flat under blob traffic. Every socket read of an upload is a fresh
// buffer outside V8's heap; V8 frees those only when its own small heap fills or their total passes its
// external-memory limit (tens of MB). A registry at rest after one 200 MB push thus held ~35 MB of dead
// buffers for as long as it stayed idle: nothing ran to collect them. Downloads reuse their buffers
// (routes/_send-blob.ts) but still make garbage per request, which one collection clears once idle.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { collector } from '../util/gc.js';

/** Bytes between collections of the young generation while an upload runs (about 1 ms each): every 16 MiB left RSS ~4 MB higher. */
const MINOR_EVERY_BYTES = 4 << 20;
/**
 * Least time between those: each costs a few ms whatever it frees, and a transfer at 1 GB/s collecting
 * every 4 MiB took twice the CPU of one that did not.
 */
const MINOR_MIN_INTERVAL_MS = 25;
/** Quiet time after the last transfer before one full collection (a few ms with the registry's small heap). */
const IDLE_MS = 250;

let sinceMinor = 0;
let lastMinor = 0;
let idleTimer: NodeJS.Timeout | undefined;

/**
 * Where V8's young generation stops growing, for a process that serves a registry. Under a stream of
 * requests V8 doubles it up to 32 MiB, which RSS keeps for good. Measured by hand with manifest GETs
 * (wrk, 32 connections): left alone 2.1–2.5k req/s at 91 MB RSS; held at its first 4 MiB 1.7–2.1k at
 * 74–77 MB; stopped at 8 MiB 1.9–2.5k at 70 MB.
 */
const YOUNG_GENERATION_CAP = 8 << 20;

function youngGenerationSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Lets the young generation grow to YOUNG_GENERATION_CAP, then no further. V8 reads its growth factor at each
 * growth, so setting it to 1 after a collection that reached the cap holds it there.
 */
export function holdYoungGeneration(): void {
  const hold = () => setFlagsFromString('--semi-space-growth-factor=1');
  if (youngGenerationSize() >= YOUNG_GENERATION_CAP) return hold();
  const observer = new PerformanceObserver(() => {
    if (youngGenerationSize() < YOUNG_GENERATION_CAP) return;
    hold();
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
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
