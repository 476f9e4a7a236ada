import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Progress lines (podman's "Copying blob ...") may come before an error, on stderr as podman prints them. */
export const PROGRESS_LINE = /^(Copying|Writing|Getting|Storing) /;

export const berthBin = join(repoRoot, 'bin', 'berth');

export interface RunOptions {
  input?: Buffer | string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Milliseconds before the command and everything it started are killed and the run fails (default RUN_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * How long one command of a test may take. Shorter than the tests' own timeouts (5 to 10 min), so a
 * command that hangs fails its test with its output instead of holding the test file open: a child
 * still running keeps node's event loop, and so the whole file, alive after its test timed out.
 */
export const RUN_TIMEOUT_MS = 4 * 60_000;

/** Runs the berth CLI from this checkout against a given store root. */
export function berth(root: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(berthBin, ['--root', root, ...args], opts);
}

/**
 * Runs a command to its end. It gets a process group of its own (a new session), so that on timeout
 * what it started dies with it: a grandchild that kept the output pipes open (a `zstd -d` waiting for
 * input) would otherwise keep this from ever resolving.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? RUN_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const output = () => `${Buffer.concat(err).toString('utf8')}\n${Buffer.concat(out).toString('utf8')}`;
    // Not cleared at exit: a grandchild may hold the pipes open after the command itself ended.
    const timer = setTimeout(() => {
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      reject(new Error(`${cmd} ${args.join(' ')} did not finish in ${timeoutMs / 1000} s; killed it and what it started\n${output()}`));
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** SIGKILL to a process group (a detached child's PID is its group's ID); nothing when it is gone. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** Whether a process has ended (a zombie no one has reaped yet counts as ended). */
export function processGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.startsWith('Z') ?? true;
  } catch {
    return true; // no /proc entry: gone
  }
}

/** Like run(), but fails the test with the command's output when it exits non-zero. */
export async function ok(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** How long a helper's synchronous command (an unmount, a lookup) may block the test's process. */
export const SYNC_TIMEOUT_MS = 60_000;

/** Lazily unmounts whatever the host sees mounted at or under `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort()
    .reverse();
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS, killSignal: 'SIGKILL' });
}

/** A temp directory removed (with any mounts under it unmounted) when the test ends. */
export function tempDir(prefix = 'berth-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    cleanup: () => {
      unmountUnder(path);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS, killSignal: 'SIGKILL' }).status === 0;
}

/** Makes the busybox rootfs tarball the demo and tests import (scripts/make-busybox-rootfs.sh). */
export async function busyboxRootfs(out: string): Promise<void> {
  await ok('bash', [join(repoRoot, 'scripts', 'make-busybox-rootfs.sh'), out]);
}

/**
 * The environment for podman on this host: a containers.conf in `dir` whose default rlimits stay
 * under the hard limits (podman's defaults are above them, and without CAP_SYS_RESOURCE its runtime
 * then fails on setrlimit; the runtime under conmon sees at most nofile 20000 and nproc 32768 here),
 * named by CONTAINERS_CONF.
 */
export function podmanEnv(dir: string): NodeJS.ProcessEnv {
  const hard = (name: string, fallback: number) => {
    const m = new RegExp(`^Max ${name}\\s+\\S+\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Math.min(Number(m[1]), fallback) : fallback;
  };
  const nofile = hard('open files', 20000);
  const nproc = hard('processes', 32768);
  const conf = join(dir, 'podman-containers.conf');
  mkdirSync(dir, { recursive: true });
  writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n`);
  return { ...process.env, CONTAINERS_CONF: conf };
}

/**
 * podman with its own throwaway storage, so tests never touch the machine's; `vfs` for a podman that
 * only creates and inspects (nothing to mount, nothing left mounted).
 */
export function podmanArgs(dir: string, storageDriver: 'overlay' | 'vfs' = 'overlay'): string[] {
  return [
    '--root',
    join(dir, 'podman-root'),
    '--runroot',
    join(dir, 'podman-run'),
    '--storage-driver',
    storageDriver,
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'file',
    '--tmpdir',
    join(dir, 'podman-tmp'),
  ];
}
