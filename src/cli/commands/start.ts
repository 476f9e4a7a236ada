import {
  processStdio,
  parseDetachKeys,
  getContainer,
  startContainer,
  requireContainer,
  attachContainer,
  startAttached,
  syncContainers,
} from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { filterContainers } from '../container-filters.js';
import { log } from '../log.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { useSelfAsExitCommand } from './_self.js';

/** `berth start [-a] [-i] CONTAINER...`: prints each name as given; with -a stays attached to one. */
export async function run(
  g: GlobalOptions,
  names: string[],
  f: { attach?: boolean; interactive?: boolean; detachKeys?: string; all?: boolean; filter?: string[] },
): Promise<number> {
  useSelfAsExitCommand();
  const detachKeys = parseDetachKeys(f.detachKeys);
  const filters = f.filter ?? [];
  if (f.all && names.length > 0) throw new BerthError('USAGE', 'either start all containers or the container(s) provided in the arguments');
  if (!f.all && filters.length === 0 && names.length === 0) throw new BerthError('USAGE', 'start requires at least one argument');
  if ((f.attach || f.interactive) && (names.length > 1 || f.all || filters.length > 0))
    throw new BerthError('USAGE', 'you cannot start and attach multiple containers at once');
  return withStore(engineOptions(g), async (store) => {
    if (f.all || filters.length > 0) {
      // podman: the containers that are not running (all of them, or those named), less what the filters leave out;
      // each printed as named, or by full ID when none were named.
      const all = await syncContainers(store);
      const named = names.length ? names.map((n) => ({ as: n, c: requireContainer(all, n) })) : all.map((c) => ({ as: c.id, c }));
      const kept = new Set(
        filterContainers(
          named.map((x) => x.c),
          filters,
        ).map((c) => c.id),
      );
      names = named.filter((x) => kept.has(x.c.id) && x.c.state.status !== 'running').map((x) => x.as);
    }
    if (!(f.attach || f.interactive)) {
      let failed: unknown;
      for (const name of names) {
        try {
          const { id } = await getContainer(store, name);
          await startContainer(store, id, { warn: (m) => log('warn', m) }).catch((e: unknown) => {
            throw startFailure(`"${id}"`, e);
          });
          process.stdout.write(`${name}\n`);
        } catch (e) {
          if (failed) process.stderr.write(`Error: ${(failed as Error).message}\n`);
          failed = e;
        }
      }
      if (failed) throw failed;
      return 0;
    }
    const { id } = await getContainer(store, names[0]!);
    const result = await startAttached(store, id, { io: processStdio(), stdin: Boolean(f.interactive), detachKeys, warn: (m) => log('warn', m) }).catch(
      (e: unknown) => {
        throw e instanceof BerthError && e.message.endsWith('use attach') ? e : startFailure(id, e);
      },
    );
    return result.detached ? 0 : result.exitCode;
  });
}

/**
 * podman's words for a start that failed: the container before the reason (its ID quoted without
 * -a, bare with it), and exit 125 whatever the runtime said; only run leaves with 126 or 127.
 */
function startFailure(container: string, e: unknown): unknown {
  if (!(e instanceof BerthError) || e.code === 'CONTAINER_UNKNOWN') return e;
  return new BerthError(e.code, `unable to start container ${container}: ${e.message}`, { cause: e });
}

/** `berth attach CONTAINER`: joins a running container's stdio until it exits or the user detaches. */
export async function runAttach(g: GlobalOptions, name: string, f: { stdin?: boolean; detachKeys?: string }): Promise<number> {
  const detachKeys = parseDetachKeys(f.detachKeys);
  return withStore(engineOptions(g), async (store) => {
    const result = await attachContainer(store, name, { io: processStdio(), stdin: f.stdin !== false, detachKeys });
    // podman attach ends a detach with a newline.
    if (result.detached) process.stdout.write('\n');
    return result.exitCode;
  });
}
