/**
 * A container's start, stop, cleanup and removal. One module because each calls the others: a
 * cleanup restarts (restart policy) or removes (`--rm`) its container, a stop cleans up what its
 * owner left, a removal ends the process first, and any lookup cleans up an orphan. The verbs that
 * call none of them back (kill, pause, wait, rename) and what they all share (`current.ts`) are
 * modules of their own.
 */
import { trace } from '../../util/trace.js';
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { makeDirs } from '../../util/dirs.js';
import { startMonitor } from '../../runtime/conmon.js';
import { keepCompiledSeccomp } from '../../runtime/seccomp-bpf-cache.js';
import { reserveHostPorts } from '../../network/port-reservation.js';
import { signalName } from '../../runtime/signals.js';
import type { ContainerRecord } from '../../store/containers.js';
import { unmountOverlay } from '../../store/overlay.js';
import { unmountInfraShm } from './shm.js';
import { unmountImageMounts } from './mounts.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { isPidRunning, processToken } from '../../util/process.js';
import { DirChanges } from '../../util/dir-changes.js';
import { writeUserFile } from '../../util/user-file.js';
import { resetHealth, startHealthTimer } from './health.js';
import { stopHelpers } from './network.js';
import { joinForStart, teardownContainerNetwork, type NetworkJoin } from './network-setup.js';
import { infraCreated, infraStartEnded } from './infra-created.js';
import { containerPaths, runRootOf, type ContainerPaths } from './paths.js';
import { prepareBundle } from './prepare.js';
import { observedState, syncOne, updateContainerState, waitForExitFile, withContainerLock } from './state.js';
import { removeAnonymousVolumes } from '../volumes/volumes.js';
import { containerEvent } from '../system/events.js';
import { dependentContainers } from './lookup.js';
import { hasStartWaiters, runStartWaiters } from './start-waiters.js';
import { LIVE_STATES, forgetInRuntime, ownerGone, readContainer, runtimeFor } from './current.js';
import { berthCommand, exitCommand } from './exit-command.js';

/** Who cleans up after a container's process: see ContainerState.cleanupOwner. */
export type CleanupOwner = 'caller' | 'monitor';

/** The container's record, with its state checked against conmon's exit file. */
export async function getContainer(store: Store, nameOrId: string): Promise<ContainerRecord> {
  const c = await readContainer(store, nameOrId);
  if (orphaned(c) && !cleaning.has(c.id)) {
    // Its caller was killed after conmon's exit command had seen it alive: nobody else will clean up.
    await cleanupContainer(store, c.id).catch(() => undefined);
    return readContainer(store, c.id);
  }
  return c;
}

/** Containers this process is cleaning up: their removal must not find them orphaned again. */
const cleaning = new Set<string>();

/** Exited, not cleaned up, and its cleanup's owner (a caller) is gone. */
function orphaned(c: ContainerRecord): boolean {
  return !LIVE_STATES.has(c.state.status) && c.state.status !== 'removing' && c.state.mounted && ownerGone(c);
}

/**
 * What a start records (mounted, the network planned, PIDs, running) is not synced to disk: a
 * reboot ends the container and undoes all of it, and the first command after it resets the state
 * (refreshAfterReboot), whatever the disk kept. A kill -9 leaves the old state or the new one (the
 * state file is replaced by rename). Two fsyncs of the file and its directory less, twice per start.
 */
const START_DURABLE = false;

export interface StartHooks {
  /** Runs after the container exists and before its process starts: where an attach connects, so no output is missed. */
  beforeStart?: (c: ContainerRecord) => Promise<void>;
  /**
   * `caller`: this process waits for the exit and then cleans up itself (a foreground run,
   * `start -a`, a build's RUN), conmon's call standing by only in case it is killed. `monitor`
   * (the default): conmon's exit command cleans up.
   */
  cleanupOwner?: CleanupOwner;
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
  // A pod's member joins the infra's namespaces: the infra's start overlaps the member's own mount
  // and bundle; the member's runtime create waits for the infra's (whose namespaces it joins), and
  // its process starts once the infra runs, as podman starts the infra first.
  const infraId = found.config.pod?.infraId;
  const infraRunning =
    infraId && found.state.status !== 'running'
      ? (async () => {
          const infra = await getContainer(store, infraId);
          if (infra.state.status !== 'running' && infra.state.status !== 'paused') await startContainer(store, infraId, hooks.warn ? { warn: hooks.warn } : {});
        })()
      : undefined;
  infraRunning?.catch(() => undefined);
  // Whatever the member's start comes to, the infra's has ended before it returns.
  const settled = () =>
    infraRunning?.then(
      () => undefined,
      () => undefined,
    );
  return withContainerLock(store, found.id, async () => {
    const c = await readContainer(store, found.id);
    if (c.state.status === 'running') {
      await infraRunning;
      return c;
    }
    if (c.state.status === 'paused') throw new BerthError('CONTAINER_STATE', `container ${c.id} is paused: unpause it instead: container state improper`);
    const paths = containerPaths(store, c.id);
    const runtime = runtimeFor(store, c);
    await Promise.all([makeDirs(paths.run), makeDirs(paths.exitDir), makeDirs(paths.socketDir), makeDirs(paths.persist)]);
    await rm(paths.exitFile, { force: true });
    // The runtime can know the container only if a start got as far as conmon, which comes after
    // `mounted` is recorded: a runtime left by a killed start is deleted first.
    if (c.state.mounted) await runtime.delete(c.id, true);
    const owner = hooks.cleanupOwner ?? 'monitor';
    const ownership = { cleanupOwner: owner, ownerToken: owner === 'caller' ? processToken() : undefined };
    trace('start: locked, dirs made');
    const helpers: number[] = [];
    // Begun now so that netavark's work overlaps mounting the root; its outcome is awaited below
    // on every path, so a failed start never leaves a namespace or a lease behind.
    const network = joinForStart(store, c, infraRunning, hooks.warn);
    network.catch(() => undefined);
    try {
      const seccomp = await prepareBundle(store, c, paths, network, runtime);
      const { setup, forwarder } = await network;
      // Recorded as planned while netavark works: a kill -9 from here on leaves a record whose
      // network cleanup and rm tear down.
      await updateContainerState(store, c, { mounted: true, ...ownership, ...(setup ? { network: setup.planned } : {}) }, START_DURABLE);
      trace('start: bundle prepared');
      // The published host ports, held by conmon while the container lives (as podman's are); a
      // user-mode forwarder binds them itself, and conmon holds its exit descriptor instead.
      const reserved = await reserveHostPorts(forwarder ? [] : (setup?.planned.ports ?? []));
      const { pid } = await startMonitor({
        id: c.id,
        name: c.name,
        runtime,
        bundle: paths.bundle,
        pidFile: paths.pidFile,
        conmonPidFile: paths.conmonPidFile,
        logPath: c.config.logDriver === 'none' ? undefined : paths.log,
        exitDir: paths.exitDir,
        persistDir: paths.persist,
        socketDir: paths.socketDir,
        tty: c.config.tty,
        stdin: c.config.stdin,
        exitCommand: exitCommand(store, c.id),
        keepOpen: [...reserved.fds, ...(forwarder?.exitFd !== undefined ? [forwarder.exitFd] : [])],
        ...(c.config.timeoutSeconds ? { timeoutSeconds: c.config.timeoutSeconds } : {}),
      }).finally(() => {
        reserved.close();
        forwarder?.release();
      });
      trace('start: conmon reported the container created');
      // crun compiled the profile: its program is kept for the next create of the same one.
      if (seccomp && !seccomp.program) await keepCompiledSeccomp(runtime, c.id, seccomp.key);
      if (c.config.pod?.infra) infraCreated(c.id, { pid, ...(setup?.planned.netns ? { netns: setup.planned.netns } : {}) });
      // netavark has been setting the namespace up meanwhile: done before the process starts.
      const networkState = setup ? await setup.applied : undefined;
      await containerEvent(store, c, 'init');
      const conmonPid = Number.parseInt(await readFile(paths.conmonPidFile, 'utf8').catch(() => '0'), 10) || 0;
      await writePidFiles(c, pid, conmonPid);
      // A (re)start begins its health over; its timer starts once the container runs (below).
      if (c.config.healthcheck) await resetHealth(store, c.id);
      if (hooks.beforeStart || hasStartWaiters(c.id)) {
        // Recorded before an attach connects, so that a failure there leaves a container rm can clean up.
        await updateContainerState(store, c, { status: 'created', pid, conmonPid, helpers, network: networkState }, START_DURABLE);
        await runStartWaiters(c);
        await hooks.beforeStart?.(c);
      }
      trace('start: attached');
      // A member's process starts only once its infra runs (network set up, its own process started).
      await infraRunning;
      // Recorded while the runtime starts it (a failed start is undone below): the two are independent.
      const [started, recorded] = await Promise.allSettled([
        runtime.start(c.id),
        updateContainerState(
          store,
          c,
          {
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
          },
          START_DURABLE,
        ),
      ]);
      // Both settled before either failure is handled, so the undo below is the last state written.
      if (started.status === 'rejected') throw started.reason;
      if (recorded.status === 'rejected') throw recorded.reason;
      trace('start: runtime started');
      let running = recorded.value;
      // The health timer checks at once: started only now, so that its first check finds the
      // container running. It is a helper, so stop and cleanup end it.
      const timer = c.config.healthcheck ? startHealthTimer(berthCommand.argv, { root: store.root, runRoot: runRootOf(store) }, c) : undefined;
      if (timer) {
        helpers.push(timer);
        running = await updateContainerState(store, running, { helpers: [...helpers] }, START_DURABLE);
      }
      await containerEvent(store, running, 'start');
      return running;
    } catch (e) {
      stopHelpers(helpers);
      await runtime.delete(c.id, true).catch(() => undefined);
      const joined = await network.catch(() => ({}) as NetworkJoin);
      joined.forwarder?.release();
      // A setup that failed has undone itself; one that worked is torn down.
      // A network that failed is the cause when the runtime failed too: its undo took the namespace the runtime was to join.
      let cause = e;
      const applied = joined.setup
        ? await joined.setup.applied.catch((failed: unknown) => {
            cause = failed;
            return undefined;
          })
        : undefined;
      await Promise.all([
        ...unmountContainer(c, paths).map((p) => p.catch(() => undefined)),
        applied ? teardownContainerNetwork(store, c, applied, hooks.warn) : undefined,
      ]);
      await updateContainerState(store, c, {
        status: c.state.status === 'created' ? 'created' : 'exited',
        pid: 0,
        conmonPid: 0,
        mounted: false,
        helpers: [],
        network: undefined,
        error: (cause as Error).message,
      });
      throw cause;
    }
  }).finally(() => {
    if (found.config.pod?.infra) infraStartEnded(found.id);
    return settled();
  });
}

/** What a start mounted for the container, unmounted at once: its root, a pod infra's /dev/shm, its image mounts. */
function unmountContainer(c: ContainerRecord, paths: ContainerPaths): Promise<void>[] {
  return [unmountOverlay(paths.overlay), unmountInfraShm(c, paths), unmountImageMounts(c, paths)];
}

/** `--pidfile` and `--conmon-pidfile`: the PIDs written where the user named, as conmon writes its own (no newline). */
async function writePidFiles(c: ContainerRecord, pid: number, conmonPid: number): Promise<void> {
  await Promise.all([
    c.config.pidFile ? writeUserFile(c.config.pidFile, String(pid)) : undefined,
    c.config.conmonPidFile ? writeUserFile(c.config.conmonPidFile, String(conmonPid)) : undefined,
  ]);
}

/**
 * Waits (on conmon's exit file) until the container's process has ended. A monitor that was
 * killed (kill -9, the OOM killer) never writes the file: the end is then seen by the two PIDs.
 */
async function awaitExit(store: Store, c: ContainerRecord, timeoutMs: number): Promise<boolean> {
  if (timeoutMs <= 0) return (await observedState(store, c)) !== undefined;
  const bothGone = () => !isPidRunning(c.state.conmonPid) && !isPidRunning(c.state.pid);
  return (await waitForExitFile(containerPaths(store, c.id).exitFile, timeoutMs, bothGone)) !== undefined;
}

/**
 * Ends a running container's process: its stop signal, then SIGKILL after the timeout, as podman
 * does. Returns once the process has exited (its cleanup is its owner's).
 */
async function endProcess(
  store: Store,
  c: ContainerRecord,
  opts: { timeout?: number; signal?: string; warn?: (message: string) => void; removing?: boolean },
): Promise<void> {
  // `removing`: an rm removes it whole once it has ended, its cleanup included (conmon's call sees it and ends).
  // A stop takes the cleanup over from the monitor (or from a caller that is gone), recorded before
  // the signal: conmon's exit command then sees a live owner and ends, so that no second Node
  // process starts only for this stop to wait on it. Should the stop be killed, the owner is gone and
  // the exit command, or the next command that finds the container, cleans up.
  const takeOver = !opts.removing && (c.state.cleanupOwner !== 'caller' || ownerGone(c));
  await updateContainerState(store, c, {
    stoppedByUser: true,
    status: opts.removing ? 'removing' : c.state.status === 'paused' ? 'paused' : 'stopping',
    ...(takeOver ? { cleanupOwner: 'caller' as const, ownerToken: processToken() } : {}),
  });
  const runtime = runtimeFor(store, c);
  const timeout = opts.timeout ?? c.config.stopTimeout;
  if (c.state.status === 'paused') {
    await runtime.kill(c.id, 'KILL', true).catch(() => undefined);
    await runtime.resume(c.id).catch(() => undefined);
  } else if (timeout > 0) {
    await runtime.kill(c.id, opts.signal ?? c.config.stopSignal).catch(() => undefined);
  }
  if (!(await awaitExit(store, c, timeout * 1000))) {
    // podman's warning (a stop with -t 0, or of a paused container, goes straight to SIGKILL).
    if (c.state.status !== 'paused' && timeout > 0) {
      opts.warn?.(
        `StopSignal ${signalName(opts.signal ?? c.config.stopSignal)} failed to stop container ${c.name} in ${timeout} seconds, resorting to SIGKILL`,
      );
    }
    await runtime.kill(c.id, 'KILL', true).catch(() => undefined);
    if (!(await awaitExit(store, c, 10_000)) && (await stillRuns(store, c.id)))
      throw new BerthError('CONTAINER_STATE', `container ${c.id} did not exit after SIGKILL`);
  }
  await containerEvent(store, c, 'stop');
}

/**
 * Stops a running container: its stop signal (or `signal`, Docker's `stop --signal`), then SIGKILL after the timeout, as podman does, and
 * returns once it is cleaned up — by its cleanup's owner (conmon's exit command, or the caller
 * attached to it), which this waits for; only when that owner is gone does stop clean up itself.
 * Stopping one that is not running is not an error.
 */
export async function stopContainer(
  store: Store,
  nameOrId: string,
  opts: { timeout?: number; signal?: string; warn?: (message: string) => void } = {},
): Promise<ContainerRecord> {
  const c = await getContainer(store, nameOrId);
  if (!LIVE_STATES.has(c.state.status)) return c;
  await endProcess(store, c, opts);
  return awaitCleanup(store, c);
}

/** Whether the container is still there and its process or monitor alive (its exit file may be gone with it). */
async function stillRuns(store: Store, id: string): Promise<boolean> {
  const current = await store.containerById(id);
  if (!current) return false;
  if (!LIVE_STATES.has(current.state.status) && current.state.status !== 'removing') return false;
  // An rm's `removing` container still runs until its exit is seen, as a stopping one does.
  return (await observedState(store, { ...current, state: { ...current.state, status: 'stopping' } })) === undefined;
}

/** How long a stop waits for the monitor's cleanup call before doing the work itself (the call never came). */
const MONITOR_CLEANUP_WAIT_MS = 30_000;

/**
 * Waits until the container's cleanup is done by its owner: woken by its state file being
 * replaced (inotify on the container's directory), or done here when the owner is this process,
 * is gone, or never came.
 */
async function awaitCleanup(store: Store, c: ContainerRecord): Promise<ContainerRecord> {
  const dir = store.containerDir(c.id);
  const deadline = Date.now() + MONITOR_CLEANUP_WAIT_MS;
  const changes = new DirChanges(dir);
  try {
    for (;;) {
      const stored = await store.containerById(c.id);
      if (!stored || !existsSync(dir)) return { ...c, state: { ...c.state, status: 'exited', mounted: false } };
      const now = await syncOne(store, stored);
      const cleaned = !LIVE_STATES.has(now.state.status) && !now.state.mounted;
      if (cleaned || now.state.status === 'running') return now;
      const owner = now.state.cleanupOwner ?? 'monitor';
      const mine = owner === 'caller' && now.state.ownerToken === processToken();
      // conmon killed before the exit: it wrote no exit file and will run no exit command.
      const monitorGone = owner === 'monitor' && !existsSync(containerPaths(store, c.id).exitFile) && !isPidRunning(c.state.conmonPid);
      // Taken over by this stop (endProcess): the whole cleanup, --rm included; a restart policy
      // does not apply to a container stopped by its user.
      if (mine) return cleanupContainer(store, c.id);
      if (monitorGone || ownerGone(now) || Date.now() > deadline) return cleanupContainer(store, c.id, { fromStop: true });
      // A slow check behind the watch, should it miss an event (the owner's death makes none).
      await changes.next(250);
    }
  } finally {
    changes.close();
  }
}

/** Who asks for a cleanup: conmon's exit command, or a stop (whose owner is gone); else the owner. */
export interface CleanupOptions {
  /** conmon's exit command: a no-op while the caller that owns the cleanup lives. */
  asMonitor?: boolean;
  /** From stop: no restart policy, no --rm removal (stop's caller decides). */
  fromStop?: boolean;
}

/**
 * After the container's process has ended: records the exit, releases the runtime's state, the
 * network and the root mount; then --rm removes the container and a restart policy starts it
 * again. Done by the cleanup's one owner; idempotent (a second call finds nothing to do).
 */
export async function cleanupContainer(store: Store, id: string, opts: CleanupOptions = {}): Promise<ContainerRecord> {
  cleaning.add(id);
  let c: ContainerRecord;
  try {
    c = await cleanupOnce(store, id, opts);
  } finally {
    cleaning.delete(id);
  }
  // A pod member's exit may end its pod (`--exit-policy stop`): never this cleanup's failure.
  if (c.config.pod && !c.config.pod.infra && !LIVE_STATES.has(c.state.status)) {
    await (await import('../pods/exit-policy.js')).stopPodIfOnlyInfraRemains(store, c).catch((e: unknown) => trace(`pod exit policy: ${(e as Error).message}`));
  }
  return c;
}

async function cleanupOnce(store: Store, id: string, opts: CleanupOptions): Promise<ContainerRecord> {
  const outcome = await withContainerLock(store, id, async () => {
    const c = await readContainer(store, id);
    if (LIVE_STATES.has(c.state.status)) return { c, next: 'none' as const };
    // The monitor's call for a container its caller cleans up: the caller is alive (it was when
    // conmon's shell checked, and still is) and does the work.
    if (opts.asMonitor && c.state.cleanupOwner === 'caller' && !ownerGone(c) && c.state.ownerToken !== processToken()) return { c, next: 'none' as const };
    // Mounted since its start: the first cleanup after the exit (a second one finds it unmounted).
    if (!c.state.mounted && !c.state.network && c.state.helpers.length === 0 && !c.config.autoRemove) return { c, next: 'none' as const };
    const paths = containerPaths(store, c.id);
    stopHelpers(c.state.helpers);
    // An --rm container goes whole: removal releases the runtime state and the mount itself,
    // overlapping them with the rest of its work, and says that it died (once: it finds it mounted).
    if (c.config.autoRemove && !opts.fromStop) return { c, next: 'remove' as const };
    if (c.state.mounted) await containerEvent(store, c, 'died', c.state.exitCode);
    // The process is gone: the runtime's state, the network and the root mount can go at the same time.
    await Promise.all([
      forgetInRuntime(store, c),
      ...unmountContainer(c, paths),
      c.state.network ? teardownContainerNetwork(store, c, c.state.network) : undefined,
    ]);
    trace('cleanup: runtime state deleted, network torn down, unmounted');
    if (c.state.mounted) await containerEvent(store, c, 'cleanup');
    const policy = c.config.restartPolicy;
    const restart =
      c.state.mounted &&
      !opts.fromStop &&
      !c.state.stoppedByUser &&
      c.state.startedAt !== undefined &&
      (policy.name === 'always' ||
        policy.name === 'unless-stopped' ||
        (policy.name === 'on-failure' && c.state.exitCode !== 0 && (policy.maxRetries === 0 || c.state.restartCount < policy.maxRetries)));
    const updated = await updateContainerState(store, c, {
      mounted: false,
      helpers: [],
      network: undefined,
      ...(restart ? { restartCount: c.state.restartCount + 1 } : {}),
    });
    if (c.config.autoRemove) return { c: updated, next: 'remove' as const };
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
 * container that rm removes. A running one (with force) is ended first; its removal is its cleanup.
 */
export async function removeContainer(
  store: Store,
  nameOrId: string,
  opts: {
    force?: boolean;
    timeout?: number;
    keepExitFile?: boolean;
    volumes?: boolean;
    warn?: (message: string) => void;
    removingPod?: boolean;
    /** `pod rm`: the pod's record, cgroup and event are its own, done once every container is gone. */
    podRemovesItself?: boolean;
    /** `rm`: refused while other containers use its namespaces (`--network container:`), as podman's is. */
    refuseDependents?: boolean;
  } = {},
): Promise<string> {
  // Its removal is its cleanup: no orphan's cleanup first.
  const c = await readContainer(store, nameOrId);
  const infraOfPod = c.config.pod?.infra && !opts.removingPod ? c.config.pod.id : undefined;
  // The other records, read once for both refusals below.
  const records = infraOfPod !== undefined || opts.refuseDependents ? await store.containerRecords() : [];
  if (infraOfPod !== undefined && records.some((x) => x.id !== c.id && x.config.pod?.id === infraOfPod)) {
    // podman's exit code for it is 125, not rm's 2 for a container's state.
    throw new BerthError('USAGE', `container ${c.id} is the infra container of pod ${infraOfPod} and cannot be removed without removing the pod`);
  }
  if (opts.refuseDependents) {
    const dependents = dependentContainers(records, c.id);
    if (dependents.length > 0) {
      throw new BerthError(
        'CONTAINER_EXISTS',
        `container ${c.id} has dependent containers which must be removed before it: ${dependents.map((d) => d.id).join(', ')}: container already exists`,
      );
    }
  }
  if (LIVE_STATES.has(c.state.status) && !opts.force) {
    throw new BerthError(
      'CONTAINER_STATE',
      `cannot remove container ${c.id} as it is ${c.state.status} - running or paused containers cannot be removed without force: container state improper`,
    );
  }
  if (LIVE_STATES.has(c.state.status)) {
    await endProcess(store, c, { timeout: opts.timeout ?? 0, removing: true, ...(opts.warn ? { warn: opts.warn } : {}) });
  }
  await withContainerLock(store, c.id, async () => {
    const current = await store.containerById(c.id);
    if (!current) return;
    const paths = containerPaths(store, c.id);
    // Not synced: the directory holding it goes next (a power loss meanwhile leaves the state before, which rm handles as well).
    if (existsSync(paths.dir)) await updateContainerState(store, current, { status: 'removing' }, false);
    stopHelpers(current.state.helpers);
    // The mount must be gone before the directory under it goes; the runtime's own state (and the
    // cgroups it removes, slow on cgroup v1) is independent of the rest and overlaps it. A container
    // cleaned up already (or never started) has none: the cleanup deleted it before it unmounted.
    const runtimeKnows = current.state.mounted || LIVE_STATES.has(current.state.status) || current.state.status === 'removing';
    const runtimeGone = runtimeKnows ? forgetInRuntime(store, current) : undefined;
    const networkGone = current.state.network ? teardownContainerNetwork(store, current, current.state.network, opts.warn) : undefined;
    await Promise.all(unmountContainer(current, paths));
    // Before the record goes: a kill -9 after this point must not leave a namespace nobody knows of.
    await networkGone;
    if (current.state.mounted) {
      // Ended here, or ended and not cleaned up yet (an API client's wait saw the exit and its rm
      // came before conmon's call): removed whole, so the cleanup that would say it died never comes.
      const code = LIVE_STATES.has(c.state.status) ? ((await observedState(store, c))?.exitCode ?? current.state.exitCode) : c.state.exitCode;
      await containerEvent(store, current, 'died', code);
    }
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
  // A pod is gone with its infra container (`rm -a` removes both, as podman's does).
  if (c.config.pod?.infra && !opts.podRemovesItself) await (await import('../pods/create.js')).forgetPod(store, c.config.pod.id);
  else if (c.config.pod?.cgroupParent && !opts.podRemovesItself) await (await import('../pods/create.js')).podMemberRemoved(store, c.config.pod);
  trace('rm: done');
  return c.id;
}
