import { Readable, Writable } from 'node:stream';
import { type ContainerStdio, processStdio, parseDetachKeys, runContainer } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { trace } from '../../util/trace.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { createOptions, type CreateFlags } from './_create-opts.js';
import { log } from '../log.js';
import { useSelfAsExitCommand } from './_self.js';
import { removeImageAfterRun } from './_run-rmi.js';
import { attachedStreams, type Stream } from './_create-refusals.js';

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

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * This process's stdio for the streams `--attach` names: the container's output on a stream not
 * named is left to its log, and input not named is not sent (with -i its stdin stays open,
 * unread by us, as docker and podman leave it).
 */
function attachedStdio(streams: Set<Stream> | undefined): ContainerStdio {
  const io = processStdio();
  if (!streams) return io;
  const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });
  return {
    stdin: streams.has('stdin') ? io.stdin : new Readable({ read: () => undefined }),
    stdout: streams.has('stdout') ? io.stdout : discard(),
    stderr: streams.has('stderr') ? io.stderr : discard(),
  };
}

/**
 * `berth run`: the flags parsed, then the engine's run (create, start, and without -d attached
 * until the container exits), leaving with the container's exit code.
 */
export async function run(g: GlobalOptions, image: string, command: string[], f: RunFlags): Promise<number> {
  useSelfAsExitCommand();
  trace('run: begin');
  const detachKeys = parseDetachKeys(f.detachKeys);
  if (f.tty && f.interactive && !process.stdin.isTTY) warnNotATerminal();
  return withStore(engineOptions(g), async (store) => {
    const opts = createOptions(image, command, { ...f, runtime: f.runtime ?? g.runtime });
    const sigProxy = f.sigProxy !== false && f.sigProxy !== 'false';
    const streams = attachedStreams(f);
    const result = await runContainer(store, opts, {
      io: attachedStdio(streams),
      // Attached to no output (`-a stdin`), the run prints the container's ID, as docker and podman do.
      ...(streams && !streams.has('stdout') && !streams.has('stderr') && !f.detach ? { onCreated: (id: string) => process.stdout.write(`${id}\n`) } : {}),
      detachKeys,
      // Node's own SIGUSR1 action would open a debugger: berth's handler, passing it on, replaces it.
      ...(sigProxy ? { proxy: { source: process, signals: PROXIED } } : {}),
      warn: warnLog,
      ...(f.detach ? { detach: true } : {}),
    });
    if (f.detach) {
      process.stdout.write(`${result.id}\n`);
      return 0;
    }
    if (result.detached) return 0;
    if (f.rmi) await removeImageAfterRun(store, image);
    return result.exitCode;
  });
}
