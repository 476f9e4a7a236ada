import { trace } from '../../util/trace.js';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { makeDirs } from '../../util/dirs.js';
import { startMonitor } from '../../runtime/conmon.js';
import { reserveHostPorts } from '../../network/port-reservation.js';
import { OciRuntime } from '../../runtime/oci-runtime.js';
import { signalName } from '../../runtime/signals.js';
import type { ContainerRecord, ContainerState } from '../../store/containers.js';
import { unmountOverlay } from '../../store/overlay.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { DirLock } from '../../util/lock.js';
import { readHealth, resetHealth, startHealthTimer } from './health.js';
import { requireContainer } from './lookup.js';
import { startSlirp, stopHelpers } from './network.js';
import { joinNetwork, teardownContainerNetwork, type NetworkJoin } from './network-setup.js';
import { containerPaths, runRootOf } from './paths.js';
import { prepareBundle } from './prepare.js';
import { observedState, syncContainers, waitForExitFile } from './state.js';
import { removeAnonymousVolumes } from '../volumes/volumes.js';
import { containerEvent } from '../system/events.js';

/**
 * How conmon calls berth back when a container exits (records the exit, unmounts, --rm, restart
 * policy). The CLI sets it to itself; a library user may point it at the berth CLI.
 */
export const berthCommand: { argv: string[] } = { argv: ['berth'] };

/**
 * What conmon runs when the container exits: berth's cleanup, unless a berth process that stops or
 * removes the container has claimed the cleanup for itself (a file): then a shell sees the claim
 * and ends at once, instead of a second Node process starting only to find the work done — with
 * `rm -af` of a hundred containers, a hundred of them at once.
 */
function exitCommand(store: Store, id: string): string[] {
  const cleanup = [...berthCommand.argv, '--root', store.root, '--runroot', runRootOf(store), 'container', 'cleanup', id];
  return ['/bin/sh', '-c', 'claim=$1; shift; [ -e "$claim" ] && exit 0; exec "$@"', 'berth-exit', containerPaths(store, id).cleanupClaim, ...cleanup];
}

/** One lifecycle operation at a time per container (start, stop, cleanup, rm), across processes. */
export async function withContainerLock<T>(store: Store, id: string, fn: () => Promise<T>): Promise<T> {
  const lock = new DirLock(containerPaths(store, id).lock);
  await makeDirs(store.containerDir('.'));
  return lock.with(fn, 5 * 60_000);
}

/** The container's record, with its state checked against conmon's exit file. */
export async function getContainer(store: Store, nameOrId: string): Promise<ContainerRecord> {
  // Only the one asked for is checked: a store with hundreds of running containers costs nothing more.
  const wanted = requireContainer(await store.containers(), nameOrId);
  const all = await syncContainers(store, (c) => c.id === wanted.id);
  return requireContainer(all, wanted.id);
}

async function setState(store: Store, id: string, patch: Partial<ContainerState>): Promise<ContainerRecord> {
  return store.updateContainers((all) => {
    const c = all.find((x) => x.id === id);
    if (!c) throw new BerthError('CONTAINER_UNKNOWN', `no container with ID ${id} found: no such container`);
    c.state = { ...c.state, ...patch };
    return { ...c };
  });
}

export function runtimeFor(store: Store, c: ContainerRecord): OciRuntime {
  return OciRuntime.resolve(c.config.runtime, runRootOf(store));
}

export interface StartHooks {
  /** Runs after the container exists and before its process starts: where an attach connects, so no output is missed. */
  beforeStart?: (c: ContainerRecord) => Promise<void>;
  /**
   * The caller stays until the container exits and cleans up itself (a foreground run): conmon's
   * own cleanup call is held back this long, as a fallback should the caller be killed, instead of
   * racing the caller for the container's lock at the moment it exits.
   */
  cleanupFallbackSeconds?: number;
  /** Where warnings go (a network teardown that failed, a host quirk worked around). */
  warn?: (message: string) => void;
}

/**
 * Starts a created or exited container: mounts its root, writes its bundle, has conmon create it
 * through the runtime, sets up its network, then starts its process. A start that fails undoes
 * what it did and leaves the container as it was, with the error recorded.
 */
export async function startContainer(store: Store, nameOrId: string, hooks: StartHooks = {}): Promise<ContainerRecord> {
  const found = await getContainer(store, nameOrId);
  return withContainerLock(store, found.id, async () => {
    const c = await getContainer(store, found.id);
    if (c.state.status === 'running') return c;
    if (c.state.status === 'paused') throw new BerthError('CONTAINER_STATE', `container ${c.id} is paused: unpause it instead: container state improper`);
    const paths = containerPaths(store, c.id);
    const runtime = runtimeFor(store, c);
    await Promise.all([makeDirs(paths.run), makeDirs(paths.exitDir), makeDirs(paths.socketDir), makeDirs(paths.persist)]);
    await Promise.all([rm(paths.exitFile, { force: true }), rm(paths.cleanupClaim, { force: true })]);
    await runtime.delete(c.id, true);
    trace('start: locked, dirs made');
    const helpers: number[] = [];
    // Begun now so that netavark's work overlaps mounting the root; its outcome is awaited below
    // on every path, so a failed start never leaves a namespace or a lease behind.
    const network = joinNetwork(store, c, hooks.warn);
    network.catch(() => undefined);
    try {
      await prepareBundle(store, c, paths, network);
      const { setup } = await network;
      // Recorded as planned while netavark works: a kill -9 from here on leaves a record whose
      // network cleanup and rm tear down.
      await setState(store, c.id, { mounted: true, ...(setup ? { network: setup.planned } : {}) });
      trace('start: bundle prepared');
      // The published host ports, held by conmon while the container lives (as podman's are).
      const reserved = await reserveHostPorts(setup?.planned.ports ?? []);
      const { pid } = await startMonitor({
        id: c.id,
        name: c.name,
        runtime,
        bundle: paths.bundle,
        pidFile: paths.pidFile,
        conmonPidFile: paths.conmonPidFile,
        logPath: paths.log,
        exitDir: paths.exitDir,
        persistDir: paths.persist,
        socketDir: paths.socketDir,
        tty: c.config.tty,
        stdin: c.config.stdin,
        exitCommand: exitCommand(store, c.id),
        ...(hooks.cleanupFallbackSeconds ? { exitDelaySeconds: hooks.cleanupFallbackSeconds } : {}),
        keepOpen: reserved.fds,
      }).finally(() => reserved.close());
      trace('start: conmon reported the container created');
      // netavark has been setting the namespace up meanwhile: done before the process starts.
      const networkState = setup ? await setup.applied : undefined;
      await containerEvent(store, c, 'init');
      const conmonPid = Number.parseInt(await readFile(paths.conmonPidFile, 'utf8').catch(() => '0'), 10) || 0;
      if (c.config.network.mode === 'slirp4netns') helpers.push(await startSlirp(pid));
      // A (re)start begins its health over; the timer is a helper, so stop and cleanup end it.
      if (c.config.healthcheck) {
        await resetHealth(store, c.id);
        const timer = startHealthTimer(berthCommand.argv, { root: store.root, runRoot: runRootOf(store) }, c);
        if (timer) helpers.push(timer);
      }
      if (hooks.beforeStart) {
        // Recorded before an attach connects, so that a failure there leaves a container rm can clean up.
        await setState(store, c.id, { status: 'created', pid, conmonPid, helpers, network: networkState });
        await hooks.beforeStart(c);
      }
      trace('start: attached');
      // Recorded while the runtime starts it (a failed start is undone below): the two are independent.
      const [started, recorded] = await Promise.allSettled([
        runtime.start(c.id),
        setState(store, c.id, {
          status: 'running',
          pid,
          conmonPid,
          startedAt: new Date().toISOString(),
          finishedAt: undefined,
          exitCode: 0,
          oomKilled: false,
          stoppedByUser: false,
          helpers,
          network: networkState,
          error: undefined,
        }),
      ]);
      // Both settled before either failure is handled, so the undo below is the last state written.
      if (started.status === 'rejected') throw started.reason;
      if (recorded.status === 'rejected') throw recorded.reason;
      trace('start: runtime started');
      await containerEvent(store, recorded.value, 'start');
      return recorded.value;
    } catch (e) {
      stopHelpers(helpers);
      await runtime.delete(c.id, true).catch(() => undefined);
      const joined = await network.catch(() => ({}) as NetworkJoin);
      // A setup that failed has undone itself; one that worked is torn down.
      const applied = joined.setup ? await joined.setup.applied.catch(() => undefined) : undefined;
      await Promise.all([
        unmountOverlay(paths.overlay).catch(() => undefined),
        applied ? teardownContainerNetwork(store, c, applied, hooks.warn) : undefined,
      ]);
      await setState(store, c.id, { status: c.state.status === 'created' ? 'created' : 'exited', pid: 0, conmonPid: 0, mounted: false, helpers: [], network: undefined, error: (e as Error).message });
      throw e;
    }
  });
}

/** Waits (polling conmon's exit file) until the container's process has ended. */
async function awaitExit(store: Store, c: ContainerRecord, timeoutMs: number): Promise<boolean> {
  if (timeoutMs <= 0) return (await observedState(store, c)) !== undefined;
  return (await waitForExitFile(containerPaths(store, c.id).exitFile, timeoutMs)) !== undefined;
}

/**
 * Stops a running container: its stop signal, then SIGKILL after the timeout, as podman does.
 * Stopping one that is not running is not an error.
 */
export async function stopContainer(store: Store, nameOrId: string, opts: { timeout?: number; warn?: (message: string) => void } = {}): Promise<ContainerRecord> {
  const c = await getContainer(store, nameOrId);
  if (c.state.status !== 'running' && c.state.status !== 'paused' && c.state.status !== 'stopping') return c;
  await setState(store, c.id, { stoppedByUser: true, status: c.state.status === 'paused' ? 'paused' : 'stopping' });
  // This process cleans up below once the container is gone: conmon need not start another.
  await writeFile(containerPaths(store, c.id).cleanupClaim, `${process.pid}\n`).catch(() => undefined);
  const runtime = runtimeFor(store, c);
  const timeout = opts.timeout ?? c.config.stopTimeout;
  if (c.state.status === 'paused') {
    await runtime.kill(c.id, 'KILL', true).catch(() => undefined);
    await runtime.resume(c.id).catch(() => undefined);
  } else if (timeout > 0) {
    await runtime.kill(c.id, c.config.stopSignal).catch(() => undefined);
  }
  if (!(await awaitExit(store, c, timeout * 1000))) {
    // podman's warning (a stop with -t 0, or of a paused container, goes straight to SIGKILL).
    if (c.state.status !== 'paused' && timeout > 0) {
      opts.warn?.(`StopSignal ${signalName(c.config.stopSignal)} failed to stop container ${c.name} in ${timeout} seconds, resorting to SIGKILL`);
    }
    await runtime.kill(c.id, 'KILL', true).catch(() => undefined);
    if (!(await awaitExit(store, c, 10_000)) && (await stillRuns(store, c.id))) throw new BerthError('CONTAINER_STATE', `container ${c.id} did not exit after SIGKILL`);
  }
  await containerEvent(store, c, 'stop');
  // Another stop or rm -f of the same container may have cleaned it up and removed it meanwhile
  // (its exit file with it): then there is nothing left to do here.
  if (!(await store.containers()).some((x) => x.id === c.id)) return c;
  return cleanupContainer(store, c.id, { fromStop: true });
}

/** Whether the container is still there and its process or monitor alive (its exit file may be gone with it). */
async function stillRuns(store: Store, id: string): Promise<boolean> {
  const current = (await store.containers()).find((x) => x.id === id);
  if (!current || !['running', 'paused', 'stopping'].includes(current.state.status)) return false;
  return (await observedState(store, current)) === undefined;
}

/** Sends a signal to a running container's main process. */
export async function killContainer(store: Store, nameOrId: string, signal = 'KILL'): Promise<ContainerRecord> {
  const c = await getContainer(store, nameOrId);
  // A container being stopped is still running: podman kills it (its stop then sees it gone).
  if (c.state.status !== 'running' && c.state.status !== 'paused' && c.state.status !== 'stopping') {
    throw new BerthError('CONTAINER_STATE', `can only kill running containers. ${c.id} is in state ${c.state.status}: container state improper`);
  }
  await setState(store, c.id, { stoppedByUser: true });
  await runtimeFor(store, c).kill(c.id, normalizeSignal(signal));
  await containerEvent(store, c, 'kill');
  return c;
}

/** `sigterm`, `SIGTERM` and `TERM` all name TERM for the runtime; a number stays a number. */
export function normalizeSignal(signal: string): string {
  return signal.toUpperCase().replace(/^SIG/, '');
}

/**
 * After the container's process has ended (conmon's exit command, or stop): records the exit,
 * releases the runtime's state, the network helper and the root mount; then --rm removes the
 * container and a restart policy starts it again. Idempotent: stop and conmon may both call it.
 */
export async function cleanupContainer(store: Store, id: string, opts: { fromStop?: boolean } = {}): Promise<ContainerRecord> {
  const outcome = await withContainerLock(store, id, async () => {
    const c = await getContainer(store, id);
    if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'stopping') return { c, next: 'none' as const };
    // Mounted since its start: the first cleanup after the exit (a second one finds it unmounted).
    if (c.state.mounted) await containerEvent(store, c, 'died', c.state.exitCode);
    const paths = containerPaths(store, c.id);
    stopHelpers(c.state.helpers);
    // An --rm container goes whole: removal releases the runtime state and the mount itself,
    // overlapping them with the rest of its work.
    if (c.config.autoRemove && !opts.fromStop) return { c, next: 'remove' as const };
    // The process is gone: the runtime's state, the network and the root mount can go at the same time.
    await Promise.all([
      runtimeFor(store, c).delete(c.id, true).catch(() => undefined),
      unmountOverlay(paths.overlay),
      c.state.network ? teardownContainerNetwork(store, c, c.state.network) : undefined,
    ]);
    trace('cleanup: runtime state deleted, network torn down, unmounted');
    if (c.state.mounted) await containerEvent(store, c, 'cleanup');
    const updated = await setState(store, c.id, { mounted: false, helpers: [], network: undefined });
    if (c.config.autoRemove) return { c: updated, next: 'remove' as const };
    const policy = c.config.restartPolicy;
    const restart =
      !opts.fromStop &&
      !c.state.stoppedByUser &&
      c.state.startedAt !== undefined &&
      (policy.name === 'always' || policy.name === 'unless-stopped' || (policy.name === 'on-failure' && c.state.exitCode !== 0 && (policy.maxRetries === 0 || c.state.restartCount < policy.maxRetries)));
    if (restart) await setState(store, c.id, { restartCount: c.state.restartCount + 1 });
    return { c: updated, next: restart ? ('restart' as const) : ('none' as const) };
  });
  if (outcome.next === 'remove') {
    await removeContainer(store, id, { force: true, keepExitFile: true, volumes: true }).catch(() => undefined);
  } else if (outcome.next === 'restart') {
    return startContainer(store, id);
  }
  return outcome.c;
}

/**
 * Removes a container: its runtime state, its mount, its writable layer and its record. Each step
 * tolerates what an interrupted earlier attempt already did, so a kill -9 at any point leaves a
 * container that rm removes.
 */
export async function removeContainer(store: Store, nameOrId: string, opts: { force?: boolean; timeout?: number; keepExitFile?: boolean; volumes?: boolean; warn?: (message: string) => void } = {}): Promise<string> {
  const c = await getContainer(store, nameOrId);
  if ((c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'stopping') && !opts.force) {
    throw new BerthError('CONTAINER_STATE', `cannot remove container ${c.id} as it is ${c.state.status} - running or paused containers cannot be removed without force: container state improper`);
  }
  if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'stopping') {
    await stopContainer(store, c.id, { timeout: opts.timeout ?? 0, ...(opts.warn ? { warn: opts.warn } : {}) });
  }
  await withContainerLock(store, c.id, async () => {
    const current = (await store.containers()).find((x) => x.id === c.id);
    if (!current) return;
    const paths = containerPaths(store, c.id);
    await setState(store, c.id, { status: 'removing' });
    stopHelpers(current.state.helpers);
    // The mount must be gone before the directory under it goes; the runtime's own state (and the
    // cgroups it removes, slow on cgroup v1) is independent of the rest and overlaps it.
    const runtimeGone = runtimeFor(store, current).delete(c.id, true).catch(() => undefined);
    const networkGone = current.state.network ? teardownContainerNetwork(store, current, current.state.network, opts.warn) : undefined;
    await unmountOverlay(paths.overlay);
    // Before the record goes: a kill -9 after this point must not leave a namespace nobody knows of.
    await networkGone;
    trace('rm: unmounted');
    const doomed = await store.tmp.path('rm-container');
    await rename(paths.dir, doomed).catch(() => undefined);
    await store.updateContainers((all) => {
      const i = all.findIndex((x) => x.id === c.id);
      if (i >= 0) all.splice(i, 1);
    });
    await containerEvent(store, current, 'remove');
    await Promise.all([
      runtimeGone,
      rm(doomed, { recursive: true, force: true }),
      rm(paths.run, { recursive: true, force: true }),
      opts.keepExitFile ? undefined : rm(paths.exitFile, { force: true }),
      opts.volumes ? removeAnonymousVolumes(store, current) : undefined,
    ]);
  });
  // The lock directory went with its release. Removing it here as well would take it from a
  // concurrent rm that has acquired it meanwhile (and fail that one's release).
  trace('rm: done');
  return c.id;
}

export async function pauseContainer(store: Store, nameOrId: string): Promise<ContainerRecord> {
  const c = await getContainer(store, nameOrId);
  if (c.state.status !== 'running') throw new BerthError('CONTAINER_STATE', `"${c.name}" is not running, can't pause: container state improper`);
  await runtimeFor(store, c).pause(c.id);
  await containerEvent(store, c, 'pause');
  return setState(store, c.id, { status: 'paused' });
}

export async function unpauseContainer(store: Store, nameOrId: string): Promise<ContainerRecord> {
  const c = await getContainer(store, nameOrId);
  if (c.state.status !== 'paused') throw new BerthError('CONTAINER_STATE', `"${c.name}" is not paused, can't unpause: container state improper`);
  await runtimeFor(store, c).resume(c.id);
  await containerEvent(store, c, 'unpause');
  return setState(store, c.id, { status: 'running' });
}

/** Waits until the container reaches one of the states (default: not running) and returns its exit code. */
export async function waitContainer(store: Store, nameOrId: string, conditions: string[] = ['stopped', 'exited']): Promise<number> {
  const first = await getContainer(store, nameOrId);
  const wanted = new Set(conditions.map((s) => (s === 'stopped' ? 'exited' : s)));
  let delay = 20;
  for (;;) {
    const all = await syncContainers(store);
    const c = all.find((x) => x.id === first.id);
    if (!c) throw new BerthError('CONTAINER_UNKNOWN', `no container with ID ${first.id} found: no such container`);
    if (wanted.has(c.state.status)) return c.state.exitCode;
    // healthy/unhealthy: the healthcheck's verdict, while the container runs.
    if ((wanted.has('healthy') || wanted.has('unhealthy')) && c.state.status === 'running' && c.config.healthcheck) {
      if (wanted.has((await readHealth(store, c.id)).Status)) return c.state.exitCode;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

export async function renameContainer(store: Store, nameOrId: string, newName: string): Promise<void> {
  const c = await getContainer(store, nameOrId);
  await store.updateContainers((all) => {
    if (all.some((x) => x.name === newName && x.id !== c.id)) {
      throw new BerthError('CONTAINER_EXISTS', `the container name "${newName}" is already in use by another container: that name is already in use`);
    }
    const rec = all.find((x) => x.id === c.id);
    if (rec) rec.name = newName;
  });
}
