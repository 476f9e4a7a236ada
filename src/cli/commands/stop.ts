import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanupContainer,
  type ContainerRecord,
  killContainer,
  pauseContainer,
  renameContainer,
  startContainer,
  stopContainer,
  syncContainers,
  unpauseContainer,
  validateContainerName,
  waitContainer,
} from '../../engine/containers/index.js';
import { type Store, withStore } from '../../engine/index.js';
import { containerEvent } from '../../engine/system/index.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { log } from '../log.js';
import { useSelfAsExitCommand } from './_self.js';

function parseSeconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new BerthError('USAGE', `invalid time "${v}": must be a whole number of seconds`);
  return n;
}

/**
 * Applies an operation to each named container (or all that `pick` selects with --all), printing
 * what podman prints for each; one failure does not stop the others, and the last is the error.
 */
async function each(
  g: GlobalOptions,
  names: string[],
  opts: { all?: boolean; ignore?: boolean; pick?: (c: ContainerRecord) => boolean },
  fn: (store: Store, name: string) => Promise<string | undefined>,
): Promise<void> {
  if (!opts.all && names.length === 0) throw new BerthError('USAGE', 'you must provide at least one container name or ID');
  await withStore(engineOptions(g), async (store) => {
    const targets = opts.all ? (await syncContainers(store)).filter(opts.pick ?? (() => true)).map((c) => c.id) : names;
    let failed: unknown;
    for (const name of targets) {
      try {
        const line = await fn(store, name);
        if (line !== undefined) process.stdout.write(`${line}\n`);
      } catch (e) {
        if (opts.ignore && isBerthError(e, 'CONTAINER_UNKNOWN')) continue;
        if (failed) process.stderr.write(`Error: ${(failed as Error).message}\n`);
        failed = e;
      }
    }
    if (failed) throw failed;
  });
}

const live = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused';

export async function run(g: GlobalOptions, names: string[], f: { all?: boolean; ignore?: boolean; time?: string; timeout?: string }): Promise<void> {
  // podman's --timeout is another name of --time.
  if (f.time === undefined && f.timeout !== undefined) f = { ...f, time: f.timeout };
  useSelfAsExitCommand();
  const timeout = parseSeconds(f.time);
  await each(g, names, { ...f, pick: live }, async (store, name) => {
    await stopContainer(store, name, { ...(timeout === undefined ? {} : { timeout }), warn: (m) => log('warn', m) });
    return name;
  });
}

export async function runRestart(g: GlobalOptions, names: string[], f: { all?: boolean; running?: boolean; time?: string }): Promise<void> {
  useSelfAsExitCommand();
  const timeout = parseSeconds(f.time);
  await each(g, names, { ...(f.all ? { all: true } : {}), pick: f.running ? live : () => true }, async (store, name) => {
    const stopped = await stopContainer(store, name, { ...(timeout === undefined ? {} : { timeout }), warn: (m) => log('warn', m) });
    const started = await startContainer(store, stopped.id);
    await containerEvent(store, started, 'restart');
    return started.id;
  });
}

export async function runKill(g: GlobalOptions, names: string[], f: { all?: boolean; signal: string }): Promise<void> {
  await each(g, names, { ...f, pick: live }, async (store, name) => {
    await killContainer(store, name, f.signal);
    return name;
  });
}

export async function runWait(g: GlobalOptions, names: string[], f: { condition: string[]; ignore?: boolean }): Promise<void> {
  const known = ['created', 'exited', 'paused', 'running', 'stopped', 'stopping', 'removing', 'healthy', 'unhealthy'];
  // A list, repeated or comma-separated (pflag's string slice); podman's words for a state it does not know.
  const conditions = f.condition.flatMap((c) => c.split(','));
  for (const c of conditions) if (!known.includes(c)) throw new BerthError('USAGE', `unknown container state: ${c}: invalid argument`);
  await each(g, names, {}, async (store, name) => {
    try {
      return String(await waitContainer(store, name, conditions.length ? conditions : undefined));
    } catch (e) {
      // podman's --ignore: a missing container's exit code is -1.
      if (f.ignore && isBerthError(e, 'CONTAINER_UNKNOWN')) return '-1';
      throw e;
    }
  });
}

export async function runPause(g: GlobalOptions, names: string[], f: { all?: boolean }): Promise<void> {
  await each(g, names, { ...f, pick: (c) => c.state.status === 'running' }, async (store, name) => (await pauseContainer(store, name)).id);
}

export async function runUnpause(g: GlobalOptions, names: string[], f: { all?: boolean }): Promise<void> {
  await each(g, names, { ...f, pick: (c) => c.state.status === 'paused' }, async (store, name) => (await unpauseContainer(store, name)).id);
}

export async function runRename(g: GlobalOptions, name: string, newName: string): Promise<void> {
  await withStore(engineOptions(g), (store) => renameContainer(store, name, validateContainerName(newName)));
}

/** conmon's exit command: records the exit and releases what the container held. */
export async function runCleanup(g: GlobalOptions, name: string): Promise<void> {
  useSelfAsExitCommand();
  // conmon may call back after the store was removed (a test's temp store): it is left gone.
  if (g.root && !existsSync(join(g.root, 'containers.json'))) return;
  await withStore(engineOptions(g), async (store) => {
    await cleanupContainer(store, name, { asMonitor: true }).catch((e: unknown) => {
      if (!isBerthError(e, 'CONTAINER_UNKNOWN')) throw e;
    });
  });
}
