import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `fn` every 50 ms until it gives a value other than undefined, and returns that value; fails
 * the test with `timed out waiting for <what>` after `timeoutMs`.
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
