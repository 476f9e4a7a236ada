import { setTimeout as sleep } from 'node:timers/promises';
import { attachSocket, type Attachment } from '../../runtime/attach.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { attachStdio, sendResize, type AttachEnd, type ContainerStdio } from './attach.js';
import { getContainer } from './lifecycle.js';
import { containerPaths } from './paths.js';
import { onNextStart } from './start-waiters.js';

/** How often an attach waiting for a start looks whether another process started the container. */
const START_POLL_MS = 250;
/** How long the early bridge waits for conmon's socket (a client that attaches and never starts costs no more than this). */
const EARLY_BRIDGE_WAIT_MS = 30_000;

export interface StreamAttachOptions {
  io: ContainerStdio;
  /** Forward io.stdin (only when the container was created with stdin open). */
  stdin: boolean;
  detachKeys?: Buffer;
}

export interface StreamAttach {
  /** Whether the container has a terminal: its output is one raw stream. */
  tty: boolean;
  /** Its output ended (`exited`), the caller typed the detach keys, or gave up before the start (`cancelled`). */
  done: Promise<AttachEnd | 'cancelled'>;
  /** Gives up: a pending attach is taken back, a live one closed (the container runs on). */
  cancel(): void;
}

/**
 * An attach for a client that may start the container itself afterwards (the Docker API's attach:
 * `docker run` attaches to the created container, then asks for the start). A running container
 * is joined now; any other is joined by its next start in this process, before its process runs,
 * so no output is missed. Ends when the container's output does.
 */
export async function attachStreams(store: Store, nameOrId: string, opts: StreamAttachOptions): Promise<StreamAttach> {
  const c = await getContainer(store, nameOrId);
  if (c.state.status === 'removing') throw new BerthError('CONTAINER_STATE', `container ${c.name} is being removed: container state improper`);
  const paths = containerPaths(store, c.id);
  const connect = (attachment?: Attachment) =>
    attachStdio({
      attachSocket: paths.attachSocket,
      ...(attachment ? { attachment } : {}),
      ctl: paths.ctl,
      stdin: opts.stdin && c.config.stdin,
      tty: c.config.tty,
      io: opts.io,
      ...(opts.detachKeys ? { detachKeys: opts.detachKeys } : {}),
    });
  if (c.state.status === 'running' || c.state.status === 'paused') {
    const attached = await connect();
    return { tty: c.config.tty, done: attached.done, cancel: () => attached.detach() };
  }
  let settle!: (how: AttachEnd | 'cancelled') => void;
  const done = new Promise<AttachEnd | 'cancelled'>((resolve) => (settle = resolve));
  let live: { detach(): void } | undefined;
  let joined = false;
  let cancelled = false;
  // The bridge to conmon's socket starts now, as `run`'s does, so that its start-up is not in the
  // start's path; it connects once the start has made the socket. One that gave up waiting is replaced.
  const early = attachSocket(paths.attachSocket, EARLY_BRIDGE_WAIT_MS);
  const earlyReady = early.ready.then(
    () => true,
    () => false,
  );
  const join = async () => {
    if (cancelled || joined) return;
    joined = true;
    const attached = await connect((await earlyReady) ? early : undefined).catch((e: unknown) => {
      settle('exited');
      throw e;
    });
    live = attached;
    void attached.done.then(settle);
  };
  const forget = onNextStart(c.id, join);
  // A start by another process (the CLI's) runs no waiter of ours: joined late, when it is seen running.
  void (async () => {
    while (!cancelled && !joined) {
      await sleep(START_POLL_MS);
      const now = await getContainer(store, c.id).catch(() => undefined);
      // Gone, or started and ended between two looks: there is nothing left to join.
      if (!now || (now.state.startedAt !== c.state.startedAt && now.state.status === 'exited')) return settle('exited');
      if (now.state.status === 'running' && !joined) {
        forget();
        await join().catch(() => settle('exited'));
      }
    }
  })();
  return {
    tty: c.config.tty,
    done,
    cancel: () => {
      cancelled = true;
      forget();
      if (!joined) early.close();
      live?.detach();
      settle('cancelled');
    },
  };
}

/** The terminal size of a running container with a TTY, through conmon's ctl fifo. */
export async function resizeContainer(store: Store, nameOrId: string, rows: number, columns: number): Promise<void> {
  const c = await getContainer(store, nameOrId);
  if (c.state.status !== 'running' && c.state.status !== 'paused')
    throw new BerthError('CONTAINER_STATE', `container ${c.name} is not running: container state improper`);
  sendResize(containerPaths(store, c.id).ctl, rows, columns);
}
