/**
 * A pod's infra being started in this process, and the moment its runtime has created it: its
 * namespaces exist from then on, so a member's own runtime create can join them while the infra's
 * network is still being set up and its process started (the member's process starts only once
 * the infra runs). In memory: `run --pod`, `pod start` and `kube play` start the infra and its
 * members in one process; a member whose infra another process starts waits for it to run.
 */
export interface CreatedInfra {
  pid: number;
  /** The pinned network namespace, where berth made one (bridge, slirp4netns, pasta). */
  netns?: string;
}

interface Signal {
  promise: Promise<CreatedInfra>;
  resolve: (v: CreatedInfra) => void;
  created: boolean;
}

const signals = new Map<string, Signal>();

function signalFor(id: string): Signal {
  let s = signals.get(id);
  if (!s) {
    let resolve!: (v: CreatedInfra) => void;
    const promise = new Promise<CreatedInfra>((r) => (resolve = r));
    signals.set(id, (s = { promise, resolve, created: false }));
  }
  return s;
}

/**
 * The infra's start says its runtime has created it. Kept until that start ends: a member whose
 * start asks after this moment (its record made meanwhile, as `kube play` makes them while the
 * infra starts) joins it at once too, instead of waiting for the infra to run.
 */
export function infraCreated(id: string, created: CreatedInfra): void {
  const s = signalFor(id);
  s.created = true;
  s.resolve(created);
}

/** The infra's start has ended (running, or failed and undone): a member now joins it as any running container. */
export function infraStartEnded(id: string): void {
  if (signals.get(id)?.created) signals.delete(id);
}

/**
 * The infra created by a start in this process, or undefined once `running` (its whole start,
 * from wherever) settles first: then the member joins it as any running container.
 */
export function infraJoinable(id: string, running: Promise<unknown>): Promise<CreatedInfra | undefined> {
  const s = signalFor(id);
  return Promise.race([s.promise, running.then(() => undefined)]).finally(() => {
    // A signal no start in this process answered goes with its last waiter; an answered one stays
    // for the members still to come, until the infra's start ends.
    if (!s.created && signals.get(id) === s) signals.delete(id);
  });
}
