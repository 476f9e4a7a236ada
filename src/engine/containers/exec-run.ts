import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../../store/store.js';
import { ExitCode } from '../../util/errors.js';
import type { ContainerStdio } from './attach.js';
import { DetachScanner, typedDetachKeys } from './detach-keys.js';
import { execProcessSpec, withProcessFile } from './exec.js';
import { getContainer } from './lifecycle.js';
import { runtimeFor } from './current.js';

/** A stream's own descriptor when it has one (the process's stdio, a file): the runtime then uses it directly; else a pipe we copy through. */
function fdOf(stream: ContainerStdio['stdin'] | ContainerStdio['stdout']): number | 'pipe' {
  const fd = (stream as { fd?: unknown }).fd;
  return typeof fd === 'number' ? fd : 'pipe';
}

export interface ExecOptions {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
  /** The detach sequence (engine/containers/detach-keys.ts); empty: none. */
  detachKeys?: Buffer;
  /** The caller's stdio; stdin and stdout are handed to the runtime as they are (a terminal must be), streams without a descriptor copied through pipes. */
  io: ContainerStdio;
  /** With `tty` and no terminal on the caller's stdin (the API's exec: the terminal is the client's), make one for the process. */
  pty?: boolean;
  /** Told the process's host PID once it runs (the API's exec inspect and resize). */
  onPid?: (pid: number) => void;
}

/** How an exec ended: the process's exit code (126/127 when it could not be run or found), or detached. */
export interface ExecResult {
  id: string;
  exitCode: number;
  detached: boolean;
  /** The runtime could not start the process (not found, not executable): podman's 127/126 is then in exitCode, where Docker reports 126 for both. */
  notStarted?: true;
}

/**
 * `exec`: the container's own process settings (env, user, caps, rlimits, no-new-privs) with the
 * caller's changes, run by the runtime inside the running container, until it exits or the
 * caller types the detach keys.
 */
export async function execInContainer(store: Store, nameOrId: string, command: string[], f: ExecOptions): Promise<ExecResult> {
  const { io } = f;
  const c = await getContainer(store, nameOrId);
  // The runtime makes the terminal from ours: without one on stdin it fails (tcgetattr), where
  // podman's exec still runs; the process then runs without a terminal.
  const pty = Boolean(f.tty && f.pty) && io.stdin.isTTY !== true;
  const tty = Boolean(f.tty) && (io.stdin.isTTY === true || pty);
  const detachKeys = typedDetachKeys(f.detachKeys, tty || io.stdin.isTTY === true);
  const proc = await execProcessSpec(store, c, command, { ...f, tty });
  return withProcessFile(store, c, proc, async (procFile) => {
    const runtime = runtimeFor(store, c);
    const pidFile = f.onPid ? join(dirname(procFile), 'exec.pid') : undefined;
    const child = runtime.execProcess(c.id, procFile, {
      tty: false,
      detach: Boolean(f.detach),
      pty,
      ...(pidFile ? { pidFile } : {}),
      // With -i and detach keys, what is typed goes through us, to watch for the sequence; with a
      // terminal the runtime must have ours itself.
      stdio: f.detach
        ? 'ignore'
        : [!(f.interactive || f.tty) ? 'ignore' : pty || (f.interactive && !tty && detachKeys.length) ? 'pipe' : fdOf(io.stdin), fdOf(io.stdout), 'pipe'],
    });
    child.stdout?.pipe(io.stdout, { end: false });
    const pidReported = pidFile && f.onPid ? reportPid(pidFile, child, f.onPid) : undefined;
    // Resolves when the user types the detach keys: the process runs on without us.
    let onDetach: () => void = () => undefined;
    const detached = new Promise<'detached'>((resolve) => (onDetach = () => resolve('detached')));
    // Without -i a made terminal's input stays open and empty: its end would reach the process as ^D.
    if (child.stdin && (f.interactive || !pty)) {
      const scanner = new DetachScanner(detachKeys);
      child.stdin.on('error', () => undefined);
      io.stdin.on('data', (chunk: Buffer) => {
        const { pass, detach } = scanner.feed(chunk);
        if (pass.length && !child.stdin!.write(pass)) {
          io.stdin.pause();
          child.stdin!.once('drain', () => io.stdin.resume());
        }
        if (detach) onDetach();
      });
      io.stdin.once('end', () => child.stdin!.end());
    }
    let errText = '';
    child.stderr?.on('data', (d: Buffer) => {
      errText += d.toString('utf8');
      if (errText.length > 1 << 16) errText = errText.slice(-4096);
      io.stderr.write(d);
    });
    // In a made terminal the runtime's own error (a command not found) comes out with the output.
    if (pty) child.stdout?.on('data', (d: Buffer) => (errText = (errText + d.toString('utf8')).slice(-4096)));
    const exited = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status, signal) => resolve(status ?? (signal ? 128 + 15 : 1)));
    });
    const code = await Promise.race([exited, detached]);
    // Read before the process file's directory goes (a process that ended at once has its PID there still).
    await pidReported;
    if (code === 'detached') {
      // Our ends of its pipes close as they would when we exit; the runtime's exec is not waited for.
      io.stdin.pause();
      child.stdin?.destroy();
      child.stderr?.destroy();
      child.unref();
      return { id: c.id, exitCode: 0, detached: true };
    }
    if (code === 255 || (code === 1 && /runc|exec failed|OCI runtime/.test(errText))) {
      if (/executable file .* not found|no such file or directory/i.test(errText))
        return { id: c.id, exitCode: ExitCode.notFound, detached: false, notStarted: true };
      if (/permission denied/i.test(errText)) return { id: c.id, exitCode: ExitCode.cannotInvoke, detached: false, notStarted: true };
    }
    return { id: c.id, exitCode: code, detached: false };
  });
}

/** Reads the PID the runtime writes once the process runs; gives up when the runtime has ended. */
async function reportPid(pidFile: string, child: ChildProcess, onPid: (pid: number) => void): Promise<void> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const ended = child.exitCode !== null || child.signalCode !== null;
    const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
    if (pid > 0) return onPid(pid);
    if (ended) return;
    await sleep(delay);
  }
}
