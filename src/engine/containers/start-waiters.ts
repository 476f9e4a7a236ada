import type { ContainerRecord } from '../../store/containers.js';

/**
 * Attaches waiting for a container's next start, in this process: a Docker client attaches to a
 * created container (`docker run`, `start -a`) and only then asks for the start, in another
 * request. The start runs each waiter where its own `beforeStart` hook runs (conmon's attach
 * socket made, the process not started yet), so the attach misses none of the output. In memory
 * because the start that must run them is in the same process (the API service); a CLI's start
 * has none.
 */
type Waiter = (c: ContainerRecord) => Promise<void>;

const waiters = new Map<string, Set<Waiter>>();

/** Registers `fn` for the next start of container `id`; the returned function takes it back. */
export function onNextStart(id: string, fn: Waiter): () => void {
  let set = waiters.get(id);
  if (!set) waiters.set(id, (set = new Set()));
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0 && waiters.get(id) === set) waiters.delete(id);
  };
}

export const hasStartWaiters = (id: string): boolean => (waiters.get(id)?.size ?? 0) > 0;

/** Runs (and forgets) the waiters of `c`; one that fails does not stop the others or the start. */
export async function runStartWaiters(c: ContainerRecord): Promise<void> {
  const set = waiters.get(c.id);
  if (!set) return;
  waiters.delete(c.id);
  await Promise.all([...set].map((fn) => fn(c).catch(() => undefined)));
}
