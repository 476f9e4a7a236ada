import type { JoinableNamespace } from '../../runtime/tuning-types.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { syncContainers } from './state.js';

/**
 * The namespaces `--pid`/`--ipc`/`--uts`/`--cgroupns container:NAME` or `ns:PATH` join, as the
 * paths the runtime enters: another container's are its process's, so it must be running (or
 * paused) at this start, as podman requires.
 */
export async function namespaceJoinPaths(store: Store, c: ContainerRecord): Promise<Partial<Record<JoinableNamespace, string>>> {
  const joins = Object.entries(c.config.tuning?.joinNamespaces ?? {}) as [JoinableNamespace, { container?: string; path?: string }][];
  if (joins.length === 0) return {};
  const owners = new Set(joins.flatMap(([, j]) => (j.container ? [j.container] : [])));
  const running = owners.size ? await syncContainers(store, (x) => owners.has(x.id)) : [];
  const out: Partial<Record<JoinableNamespace, string>> = {};
  for (const [ns, join] of joins) {
    if (join.path) {
      out[ns] = join.path;
      continue;
    }
    const owner = running.find((x) => x.id === join.container);
    if (!owner) throw new BerthError('CONTAINER_UNKNOWN', `the container ${join.container} whose ${ns} namespace ${c.name} joins no longer exists`);
    if (owner.state.status !== 'running' && owner.state.status !== 'paused')
      throw new BerthError('CONTAINER_STATE', `cannot join the ${ns} namespace of container ${owner.id}: it is not running: container state improper`);
    out[ns] = `/proc/${owner.state.pid}/ns/${ns}`;
  }
  return out;
}
