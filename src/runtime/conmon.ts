import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BerthError, ExitCode } from '../util/errors.js';
import { envList, nativeCalls } from '../util/native.js';
import { findExecutable, type OciRuntime } from './oci-runtime.js';

export interface MonitorOptions {
  id: string;
  name: string;
  runtime: OciRuntime;
  /** The OCI bundle: config.json, and where conmon puts the attach socket and ctl fifo. */
  bundle: string;
  pidFile: string;
  conmonPidFile: string;
  /** Where conmon writes the container's output as a k8s-file log; undefined: no log (`--log-driver none`). */
  logPath: string | undefined;
  /** conmon writes a file named after the container with its exit code here. */
  exitDir: string;
  persistDir: string;
  socketDir: string;
  tty: boolean;
  stdin: boolean;
  /** Run once the container has exited: berth's own cleanup (records the exit, unmounts, --rm, restart). */
  exitCommand: string[];
  /** Descriptors conmon inherits and holds while it lives: the published ports' sockets, as podman's conmon holds them. */
  keepOpen?: number[];
  /** `--timeout`: conmon kills the container after this many seconds, and records the exit as -1. */
  timeoutSeconds?: number;
}

/**
 * Starts conmon, the monitor podman uses, for one container. conmon creates the container through
 * the runtime, then stays as its parent: it holds stdio (the attach socket), writes the log, and
 * writes the exit code when the container ends. It reports the container's PID (or the runtime's
 * error) on a sync pipe, which is all this waits for; the container is then "created".
 */
export async function startMonitor(opts: MonitorOptions): Promise<{ pid: number }> {
  const conmon = findExecutable('conmon');
  if (!conmon) throw new BerthError('USAGE', 'conmon not found: install it (apt install conmon)');
  const [exitCmd, ...exitArgs] = opts.exitCommand;
  const args = [
    '--api-version',
    '1',
    '-c',
    opts.id,
    // The attach socket's path must fit in 108 bytes; conmon links socketDir/UUID to the bundle.
    '-u',
    opts.id.slice(0, 12),
    '-n',
    opts.name,
    '-r',
    opts.runtime.path,
    '-b',
    opts.bundle,
    '-p',
    opts.pidFile,
    '--conmon-pidfile',
    opts.conmonPidFile,
    '-l',
    opts.logPath === undefined ? 'none' : `k8s-file:${opts.logPath}`,
    '--exit-dir',
    opts.exitDir,
    '--persist-dir',
    opts.persistDir,
    '--socket-dir-path',
    opts.socketDir,
    '--log-level',
    'error',
    '--syslog',
    '--full-attach',
    ...opts.runtime.globalArgs.flatMap((a) => ['--runtime-arg', a]),
    ...(opts.tty ? ['-t'] : []),
    ...(opts.stdin ? ['-i'] : []),
    ...(opts.timeoutSeconds ? ['--timeout', String(opts.timeoutSeconds)] : []),
    ...(exitCmd ? ['--exit-command', exitCmd, ...exitArgs.flatMap((a) => ['--exit-command-arg', a]), '--exit-delay', '0'] : []),
  ];
  const { sync: text, stderr } = await spawnMonitor(conmon, args, opts);
  let msg: { data?: number; message?: string };
  try {
    msg = JSON.parse(text.slice(0, text.indexOf('}') + 1)) as { data?: number; message?: string };
  } catch {
    throw new BerthError('INTERNAL', `conmon failed: ${stderr.trim() || 'no report on its sync pipe'}`);
  }
  if (!msg.data || msg.data < 0) {
    const reason = (msg.message ?? stderr).trim();
    throw runtimeCreateError(reason);
  }
  return { pid: msg.data };
}

/**
 * conmon started in `opts.bundle` (it writes some files, an `oom` marker, relative to where it
 * runs, as podman has it), in a session of its own, with the held ports' sockets: what it reported
 * on its sync pipe (fd 3, `_OCI_SYNCPIPE`) and what it wrote on stderr by then. With berth's native
 * addon, conmon is made with posix_spawn and the pipes read off Node's thread: Node's spawn forks
 * the whole process, ~4 ms of its main thread per container start.
 */
async function spawnMonitor(conmon: string, args: string[], opts: MonitorOptions): Promise<{ sync: string; stderr: string }> {
  const env = { ...process.env, _OCI_SYNCPIPE: '3' };
  const native = nativeCalls();
  if (native) {
    const [, sync, stderr] = await native.startMonitor(conmon, [conmon, ...args], envList(env), opts.bundle, opts.keepOpen ?? []);
    return { sync, stderr };
  }
  const child = spawn(conmon, args, { cwd: opts.bundle, stdio: ['ignore', 'ignore', 'pipe', 'pipe', ...(opts.keepOpen ?? [])], env, detached: true });
  const stderr: Buffer[] = [];
  child.stderr!.on('data', (c: Buffer) => stderr.push(c));
  const sync = child.stdio[3] as Readable;
  const text = await new Promise<string>((resolve, reject) => {
    let buf = '';
    sync.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.includes('}')) resolve(buf);
    });
    sync.on('error', reject);
    sync.on('close', () => resolve(buf));
    child.on('error', reject);
  });
  sync.destroy();
  child.stderr!.destroy();
  child.unref();
  return { sync: text, stderr: Buffer.concat(stderr).toString('utf8') };
}

/** A runtime's create error, with podman's exit codes: 127 for a missing command, 126 when it cannot be run. */
export function runtimeCreateError(reason: string): BerthError {
  const oneLine = reason.split('\n').filter(Boolean).at(-1) ?? reason;
  const clean = oneLine.replace(/^.*?msg="?/, '').replace(/"$/, '');
  if (/executable file not found|no such file or directory/i.test(clean) && /exec|executable|\$PATH|open executable/i.test(clean)) {
    return new BerthError('USAGE', `${clean}: OCI runtime attempted to invoke a command that was not found`, { exitCode: ExitCode.notFound });
  }
  // A flag the runtime does not know (a --runtime-flag): podman's "OCI runtime error", 126.
  const unknownFlag = reason.split('\n').find((l) => /unrecognized option|flag provided but not defined/.test(l));
  if (unknownFlag) return new BerthError('USAGE', `OCI runtime error: ${unknownFlag.trim()}`, { exitCode: ExitCode.cannotInvoke });
  // crun opens a directory given as the command with EPERM: podman counts that as permission denied too.
  if (/permission denied|operation not permitted/i.test(clean)) {
    return new BerthError('USAGE', `${clean}: OCI permission denied`, { exitCode: ExitCode.cannotInvoke });
  }
  return new BerthError('INTERNAL', clean || 'the OCI runtime failed to create the container');
}
