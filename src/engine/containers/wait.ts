import type { Store } from '../../store/store.js';
import { readContainer } from './current.js';
import { readHealth } from './health.js';
import { getContainer } from './lifecycle.js';

/** Waits until the container reaches one of the states (default: not running) and returns its exit code. */
export async function waitContainer(store: Store, nameOrId: string, conditions: string[] = ['stopped', 'exited']): Promise<number> {
  const first = await getContainer(store, nameOrId);
  const wanted = new Set(conditions.map((s) => (s === 'stopped' ? 'exited' : s)));
  let delay = 20;
  for (;;) {
    // The one container's record and state, not the whole store's, each time round.
    const c = await readContainer(store, first.id);
    if (wanted.has(c.state.status)) return c.state.exitCode;
    // healthy/unhealthy: the healthcheck's verdict, while the container runs.
    if ((wanted.has('healthy') || wanted.has('unhealthy')) && c.state.status === 'running' && c.config.healthcheck) {
      if (wanted.has((await readHealth(store, c.id)).Status)) return c.state.exitCode;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}
