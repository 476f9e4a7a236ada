import { trace } from '../../util/trace.js';
import { rm } from 'node:fs/promises';
import { createContainer } from '../../engine/containers/create.js';
import { cleanupContainer, getContainer, killContainer, removeContainer, startContainer } from '../../engine/containers/lifecycle.js';
import { containerPaths } from '../../engine/containers/paths.js';
import { waitForExitFile } from '../../engine/containers/state.js';
import { withStore } from '../../engine/engine.js';
import { isBerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { attachSocket } from '../../runtime/attach.js';
import { dismissMonitor } from '../../runtime/conmon.js';
import { attachTerminal } from './_attach.js';
import { parseDetachKeys } from './_detach-keys.js';
import { createOptions, type CreateFlags } from './_create-opts.js';
import { log } from '../log.js';
import { useSelfAsExitCommand } from './_self.js';
import { removeImageAfterRun } from './_run-rmi.js';

interface RunFlags extends CreateFlags {
  detach?: boolean;
  sigProxy?: boolean | string;
  detachKeys?: string;
  rmi?: boolean;
}

const warnLog = (message: string) => log('warn', message);

/** podman's warning (a logrus line) for -it when stdin is no terminal. */
function warnNotATerminal(): void {
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  process.stderr.write(`time="${at}" level=warning msg="The input device is not a TTY. The --tty and --interactive flags might not work properly"\n`);
}

/** How long conmon holds back its cleanup call for a container whose run stays in the foreground. */
const FOREGROUND_CLEANUP_FALLBACK_S = 5;

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * `berth run`: create, start, and (without -d) stay attached until the container exits, leaving
 * with its exit code. The container's stdio is held by conmon, so it outlives this process.
 */
export async function run(g: GlobalOptions, image: string, command: string[], f: RunFlags): Promise<number> {
  useSelfAsExitCommand();
  trace('run: begin');
  const detachKeys = parseDetachKeys(f.detachKeys);
  if (f.tty && f.interactive && !process.stdin.isTTY) warnNotATerminal();
  return withStore(engineOptions(g), async (store) => {
    const opts = createOptions(image, command, { ...f, runtime: f.runtime ?? g.runtime });
    const created = await createContainer(store, opts, (id) => removeContainer(store, id, { force: true }).then(() => undefined));
    trace('run: created');
    const paths = containerPaths(store, created.id);
    if (f.detach) {
      try {
        await startContainer(store, created.id, { warn: warnLog });
      } catch (e) {
        if (created.config.autoRemove) await removeContainer(store, created.id, { force: true, volumes: true }).catch(() => undefined);
        throw e;
      }
      process.stdout.write(`${created.id}\n`);
      return 0;
    }
    let attached: Awaited<ReturnType<typeof attachTerminal>> | undefined;
    let conmonPid = 0;
    // Handlers go in before the container starts: its first output can reach the caller, and the
    // caller signal us, before start returns (Node's own SIGUSR1 action would open a debugger).
    const proxy = !created.config.tty && f.sigProxy !== false && f.sigProxy !== 'false';
    let started = false;
    const pending: NodeJS.Signals[] = [];
    const forward = (sig: NodeJS.Signals) => {
      if (!started) pending.push(sig);
      else void killContainer(store, created.id, sig).catch(() => undefined);
    };
    if (proxy) for (const s of PROXIED) process.on(s, forward);
    // The attach bridge starts now and connects as soon as conmon has made its socket, so its own
    // start-up overlaps the container's creation.
    const early = attachSocket(paths.attachSocket, 60_000);
    early.ready.catch(() => undefined);
    try {
      ({ conmonPid } = (await startContainer(store, created.id, {
        cleanupFallbackSeconds: FOREGROUND_CLEANUP_FALLBACK_S,
        warn: warnLog,
        beforeStart: async () => {
          attached = await attachTerminal({ attachSocket: paths.attachSocket, attachment: early, ctl: paths.ctl, stdin: created.config.stdin, tty: created.config.tty, detachKeys });
        },
      })).state);
    } catch (e) {
      if (proxy) for (const s of PROXIED) process.off(s, forward);
      early.close();
      attached?.detach();
      if (created.config.autoRemove) await removeContainer(store, created.id, { force: true, volumes: true }).catch(() => undefined);
      throw e;
    }
    started = true;
    trace('run: started');
    for (const sig of pending.splice(0)) forward(sig);
    if ((await attached!.done) === 'detached') {
      // The container runs on without us; conmon's cleanup call takes over when it exits.
      if (proxy) for (const s of PROXIED) process.off(s, forward);
      return 0;
    }
    trace('run: output ended');
    const code = (await waitForExitFile(paths.exitFile, 30_000)) ?? (await getContainer(store, created.id)).state.exitCode;
    trace('run: exit code read');
    if (proxy) for (const s of PROXIED) process.off(s, forward);
    // podman's foreground run cleans up itself (unmount, --rm, restart policy); conmon's call is the fallback.
    await cleanupContainer(store, created.id).catch((e: unknown) => {
      if (!isBerthError(e, 'CONTAINER_UNKNOWN')) throw e;
    });
    if (created.config.autoRemove) await rm(paths.exitFile, { force: true });
    await dismissMonitor(conmonPid, created.id);
    trace('run: cleaned up');
    if (f.rmi) await removeImageAfterRun(store, image);
    return code;
  });
}
