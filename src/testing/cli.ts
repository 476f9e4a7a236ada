import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** Runs the berth CLI from this checkout against a given store root. */
export function berth(root: string, args: string[], opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run(berthBin, ['--root', root, ...args], opts);
}

export function run(cmd: string, args: string[], opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run(), but fails the test with the command's output when it exits non-zero. */
export async function ok(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** A temp directory removed (with any mounts under it unmounted) when the test ends. */
export function tempDir(prefix = 'berth-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    cleanup: () => {
      spawnSync('sh', ['-c', `grep -o " ${path}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Makes the busybox rootfs tarball the demo and tests import (scripts/make-busybox-rootfs.sh). */
export async function busyboxRootfs(out: string): Promise<void> {
  await ok('bash', [join(repoRoot, 'scripts', 'make-busybox-rootfs.sh'), out]);
}

/** podman with its own throwaway storage, so tests never touch the machine's. */
export function podmanArgs(dir: string): string[] {
  return [
    '--root', join(dir, 'podman-root'),
    '--runroot', join(dir, 'podman-run'),
    '--storage-driver', 'overlay',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
    '--tmpdir', join(dir, 'podman-tmp'),
  ];
}
