/**
 * Waits for every promise, even after one fails, then throws the first failure (in the given order),
 * else gives the values. For work whose failure is cleaned up after: nothing may still be running
 * when the clean-up starts, or it would finish after it and stay.
 */
export async function settleAll<T>(promises: Iterable<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
