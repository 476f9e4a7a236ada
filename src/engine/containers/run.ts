import { rm } from 'node:fs/promises';
import { attachSocket } from '../../runtime/attach.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import { trace } from '../../util/trace.js';
import { containerEvent } from '../system/events.js';
import { attachStdio, type Attached, type ContainerStdio } from './attach.js';
import { createContainer, type CreateOptions } from './create.js';
import { cleanupContainer, getContainer, removeContainer, startContainer } from './lifecycle.js';
import { killContainer } from './kill.js';
import { forgetInRuntime } from './current.js';
import { containerPaths } from './paths.js';
import { waitForExitFile } from './state.js';

/** Signals forwarded to the container while a caller stays attached: a source (a CLI's `process`) and which. */
export interface SignalProxy {
  source: NodeJS.EventEmitter;
  signals: NodeJS.Signals[];
}

export interface AttachedRunOptions {
  io: ContainerStdio;
  /** The detach sequence (engine/containers/detach-keys.ts); empty: none. */
  detachKeys?: Buffer;
  /** Signals to pass on to the container's process while it runs (ignored with a TTY, as podman). */
  proxy?: SignalProxy;
  warn?: (message: string) => void;
}

export interface RunOptions extends AttachedRunOptions {
  /** Start and return at once, leaving the cleanup to the monitor. */
  detach?: boolean;
  /** Told the new container's ID once it is made, before it starts. */
  onCreated?: (id: string) => void;
}

/** How a run or an attached start ended: the container's exit code, or detached (it runs on). */
export interface RunResult {
  id: string;
  exitCode: number;
  detached: boolean;
}

/**
 * `run`: creates the container, starts it and (unless detached) stays attached until it exits,
 * then cleans up (this caller owns the cleanup: --rm removal and restart policy included) and
 * returns its exit code. A detached container's cleanup is its monitor's. The container's stdio is
 * held by conmon, so it outlives the caller.
 */
export async function runContainer(store: Store, opts: CreateOptions, run: RunOptions): Promise<RunResult> {
  const created = await createContainer(store, opts, (id) => removeContainer(store, id, { force: true }).then(() => undefined));
  trace('run: created');
  run.onCreated?.(created.id);
  if (run.detach) {
    try {
      await startContainer(store, created.id, { ...(run.warn ? { warn: run.warn } : {}) });
    } catch (e) {
      if (created.config.autoRemove) await removeContainer(store, created.id, { force: true, volumes: true }).catch(() => undefined);
      throw e;
    }
    return { id: created.id, exitCode: 0, detached: true };
  }
  return startAndWait(store, created, { ...run, stdin: created.config.stdin, early: true, removeOnFailure: created.config.autoRemove });
}

/**
 * `start -a`: starts a created or exited container attached, and as `run` stays until it exits
 * and cleans up. `stdin` connects the caller's input (`-i`).
 */
export async function startAttached(store: Store, nameOrId: string, run: AttachedRunOptions & { stdin: boolean }): Promise<RunResult> {
  const c = await getContainer(store, nameOrId);
  return startAndWait(store, c, { ...run, stdin: run.stdin && c.config.stdin, early: false, removeOnFailure: false });
}

async function startAndWait(
  store: Store,
  c: ContainerRecord,
  run: AttachedRunOptions & { stdin: boolean; early: boolean; removeOnFailure: boolean },
): Promise<RunResult> {
  const paths = containerPaths(store, c.id);
  let attached: Attached | undefined;
  // Handlers go in before the container starts: its first output can reach the caller, and the
  // caller signal us, before start returns.
  const proxy = c.config.tty ? undefined : run.proxy;
  let started = false;
  const pending: NodeJS.Signals[] = [];
  const forward = (sig: NodeJS.Signals) => {
    if (!started) pending.push(sig);
    else void killContainer(store, c.id, sig).catch(() => undefined);
  };
  const unproxy = () => {
    if (proxy) for (const s of proxy.signals) proxy.source.off(s, forward);
  };
  if (proxy) for (const s of proxy.signals) proxy.source.on(s, forward);
  // The attach bridge starts now and connects as soon as conmon has made its socket, so its own
  // start-up overlaps the container's creation.
  const early = run.early ? attachSocket(paths.attachSocket, 60_000) : undefined;
  early?.ready.catch(() => undefined);
  try {
    await startContainer(store, c.id, {
      cleanupOwner: 'caller',
      ...(run.warn ? { warn: run.warn } : {}),
      beforeStart: async () => {
        attached = await attachStdio({
          attachSocket: paths.attachSocket,
          ...(early ? { attachment: early } : {}),
          ctl: paths.ctl,
          stdin: run.stdin,
          tty: c.config.tty,
          io: run.io,
          ...(run.detachKeys ? { detachKeys: run.detachKeys } : {}),
        });
      },
    });
  } catch (e) {
    unproxy();
    early?.close();
    attached?.detach();
    if (run.removeOnFailure) await removeContainer(store, c.id, { force: true, volumes: true }).catch(() => undefined);
    throw e;
  }
  started = true;
  trace('run: started');
  for (const sig of pending.splice(0)) forward(sig);
  if (!attached) {
    unproxy();
    throw new BerthError('CONTAINER_STATE', `container ${c.name} is already running; use attach`);
  }
  // podman's event for a caller joining the container's stdio, after its start.
  await containerEvent(store, c, 'attach');
  if ((await attached.done) === 'detached') {
    // The container runs on without us; when it exits, conmon's call finds its caller gone and cleans up.
    unproxy();
    return { id: c.id, exitCode: 0, detached: true };
  }
  trace('run: output ended');
  const exited = await waitForExitFile(paths.exitFile, 30_000);
  trace('run: exit code read');
  // conmon saw its process end: the runtime can forget it while the cleanup reads and locks. (Not
  // without the exit file: a process that closed its output may run on, and a delete would kill it.)
  if (exited !== undefined) void forgetInRuntime(store, c);
  const exitCode = exited ?? (await getContainer(store, c.id)).state.exitCode;
  unproxy();
  // This caller owns the cleanup (unmount, --rm, restart policy): done before it returns.
  await cleanupContainer(store, c.id).catch((e: unknown) => {
    if (!isBerthError(e, 'CONTAINER_UNKNOWN')) throw e;
  });
  if (c.config.autoRemove) await rm(paths.exitFile, { force: true });
  trace('run: cleaned up');
  return { id: c.id, exitCode, detached: false };
}

/** `attach`: joins a running container's stdio until it exits (its exit code) or the caller detaches. */
export async function attachContainer(store: Store, nameOrId: string, opts: { io: ContainerStdio; stdin: boolean; detachKeys?: Buffer }): Promise<RunResult> {
  const c = await getContainer(store, nameOrId);
  if (c.state.status !== 'running') throw new BerthError('CONTAINER_STATE', `you can only attach to running containers: container state improper`);
  const paths = containerPaths(store, c.id);
  const attached = await attachStdio({
    attachSocket: paths.attachSocket,
    ctl: paths.ctl,
    stdin: opts.stdin && c.config.stdin,
    tty: c.config.tty,
    io: opts.io,
    ...(opts.detachKeys ? { detachKeys: opts.detachKeys } : {}),
  });
  await containerEvent(store, c, 'attach');
  if ((await attached.done) === 'detached') return { id: c.id, exitCode: 0, detached: true };
  const exitCode = (await waitForExitFile(paths.exitFile, 30_000)) ?? (await getContainer(store, c.id)).state.exitCode;
  return { id: c.id, exitCode, detached: false };
}
