import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import { dependentContainers, findContainer, removeContainer, syncContainers } from '../../engine/containers/index.js';
import { type Store, withStore } from '../../engine/index.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import { engineOptions, removalError, type GlobalOptions } from '../context.js';
import { log } from '../log.js';

interface RmFlags {
  all?: boolean;
  force?: boolean;
  ignore?: boolean;
  volumes?: boolean;
  time?: string;
  latest?: boolean;
  depend?: boolean;
}

/** `berth rm`: prints what it removed, as podman does (the name as given, or the ID with --all). */
export async function run(g: GlobalOptions, names: string[], f: RmFlags): Promise<void> {
  if (!f.all && !f.latest && names.length === 0) throw new BerthError('USAGE', 'you must provide at least one name or id');
  const timeout = f.time === undefined ? undefined : Number(f.time);
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 0)) throw new BerthError('USAGE', `invalid time "${f.time}"`);
  await withStore(engineOptions(g), async (store) => {
    // Names, IDs and creation times are in the records: no container's state file is read for them.
    const targets = f.all ? (await syncContainers(store)).map((c) => c.id) : f.latest ? latestOf(await store.containerRecords()) : names;
    // podman looks every name up before it removes any: one that is not there fails the command
    // (exit 1) with nothing removed, unless -i or -f.
    if (!f.all && !f.latest && !f.ignore && !f.force) {
      const containers = await store.containerRecords();
      const missing = names.find((n) => !findContainer(containers, n));
      if (missing !== undefined)
        throw new BerthError('CONTAINER_UNKNOWN', `no container with name or ID "${missing}" found: no such container`, { exitCode: 1 });
    }
    const failed: unknown[] = [];
    // Several at once, as podman does: most of a removal is waiting (for the process to die, for
    // the runtime, for umount); each container has its own lock and the store lock is held briefly.
    const limit = pLimit(Math.max(2, availableParallelism() * 2));
    await Promise.all(
      targets.map((name) =>
        limit(async () => {
          try {
            const opts = {
              force: f.force ?? false,
              ...(timeout !== undefined ? { timeout } : {}),
              ...(f.volumes ? { volumes: true } : {}),
              // Every container goes, so a pod's infra may go with its members (and the pod with it),
              // and a container with those that use its namespaces.
              ...(f.all ? { removingPod: true } : { refuseDependents: true }),
              warn: (m: string) => log('warn', m),
            };
            // --depend: those that use its namespaces first, theirs before them (podman prints their IDs).
            if (f.depend && !f.all) {
              for (const id of await dependentsFirst(store, name)) {
                await removeContainer(store, id, opts);
                process.stdout.write(`${id}\n`);
              }
            }
            await removeContainer(store, name, opts);
            process.stdout.write(`${name}\n`);
          } catch (e) {
            if ((f.ignore || (f.force && !f.all)) && isBerthError(e, 'CONTAINER_UNKNOWN')) return;
            const previous = failed.at(-1);
            if (previous) process.stderr.write(`Error: ${(previous as Error).message}\n`);
            failed.push(e);
          }
        }),
      ),
    );
    if (failed.length > 0) throw removalError(failed);
  });
}

export async function runExists(g: GlobalOptions, name: string): Promise<number> {
  return withStore(engineOptions(g), async (store) => (findContainer(await store.containerRecords(), name) ? 0 : 1));
}

/** The containers that depend on `name`, each after those that depend on it in turn. */
async function dependentsFirst(store: Store, name: string): Promise<string[]> {
  const containers = await store.containerRecords();
  const target = findContainer(containers, name);
  if (!target) return [];
  const order: string[] = [];
  const visit = (id: string): void => {
    for (const d of dependentContainers(containers, id)) {
      if (order.includes(d.id)) continue;
      visit(d.id);
      order.push(d.id);
    }
  };
  visit(target.id);
  return order;
}

/** podman's --latest: the container created last (none when there is none). */
function latestOf(containers: readonly { id: string; created: string }[]): string[] {
  const latest = [...containers].sort((a, b) => Date.parse(b.created) - Date.parse(a.created))[0];
  return latest ? [latest.id] : [];
}
