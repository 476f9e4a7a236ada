/**
 * Server processes for tests (the Docker API engines of docker-engines.ts): each started in a process group
 * of its own with its output to a log, waited for until it answers `/_ping` on its socket, stopped
 * with SIGTERM and then SIGKILL to the group; the directories they leave removed with what is
 * mounted under them; and the hard rlimits a server's containers may be given here.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { killGroup, unmountUnder } from './cli.js';

/**
 * A hard limit of this process from /proc/self/limits (`Max open files`, `Max processes`): an
 * engine's containers may not be given more without CAP_SYS_RESOURCE. `fallback` where unreadable.
 */
function hardLimit(name: string, fallback: number): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name));
  // After the name: the soft limit, the hard one, the units.
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  return hard && /^\d+$/.test(hard) ? Number(hard) : fallback;
}

/** The hard RLIMIT_NOFILE. */
export function hardNofile(): number {
  return hardLimit('Max open files', 1024);
}

/** The hard RLIMIT_NPROC. */
export function hardNproc(): number {
  return hardLimit('Max processes', 4096);
}

/** Unmounts everything under `path` (dockerd binds its data root onto itself), then deletes it. */
export function removeDir(path: string): void {
  unmountUnder(path);
  // berth's store hands its trash to a detached `rm` after each command: one still renaming or
  // deleting in there as the tree goes makes a directory not empty for a moment; try again then,
  // and again if a straggler of the engine's last command wrote into it after it went (CI saw the
  // store's records back a moment after the removal).
  for (let attempt = 0; attempt < 20; attempt++) {
    rmSync(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    spawnSync('sleep', ['0.1']);
    if (!existsSync(path)) return;
  }
}

/** GET /_ping over the socket: true once the engine answers OK. */
export function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Starts a server process in a process group of its own, its output to `log`. */
export function startDaemon(cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    return spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, ...env } });
  } finally {
    closeSync(fd);
  }
}

export async function waitForPing(kind: string, child: ChildProcess, socket: string, log: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(socket))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '';
      throw new Error(`${kind} did not answer /_ping on ${socket}${child.exitCode !== null ? ` (exited ${child.exitCode})` : ''}:\n${tail}`);
    }
    await sleep(100);
  }
}

/** SIGTERM, up to `graceMs` for it to exit, then SIGKILL to its whole group. */
export async function stopDaemon(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(graceMs)]);
  }
  killGroup(child.pid);
}
