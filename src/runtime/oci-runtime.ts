import { cgroupsDisabled } from './rootless-cgroups.js';
import { execFileAsync as exec } from '../util/exec-file.js';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { delimiter, join, basename } from 'node:path';
import { BerthError, ExitCode } from '../util/errors.js';
import { underPty } from './pty.js';

export interface RuntimeState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
}

/** What findExecutable found by name in this process: PATH is searched once per program. */
const found = new Map<string, string>();

/** Finds an executable on PATH (plus the sbin directories, where Debian puts runc). */
export function findExecutable(name: string): string | undefined {
  if (name.includes('/')) return canRun(name) ? name : undefined;
  const known = found.get(name);
  if (known !== undefined) return known;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/libexec/podman'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    if (canRun(path)) {
      found.set(name, path);
      return path;
    }
  }
  return undefined;
}

/**
 * Whether `path` is a file this process may execute. A missing one is told by a stat that does
 * not throw: each directory of a long PATH that lacks the program made an access() error, an
 * exception with its stack, ~3 ms of a `pod rm` in all.
 */
function canRun(path: string): boolean {
  if (!statSync(path, { throwIfNoEntry: false })) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Global flags for the runtime given to this berth process (podman's `--runtime-flag`), passed before every runtime command. */
let invocationFlags: readonly string[] = [];

export function setRuntimeFlags(flags: readonly string[]): void {
  invocationFlags = flags;
}

/**
 * An OCI runtime (crun, runc or one given by path) driven through its command line, with its
 * state kept under berth's run root so that berth's containers never mix with podman's.
 */
export class OciRuntime {
  readonly name: string;

  constructor(
    readonly path: string,
    readonly stateRoot: string,
  ) {
    this.name = basename(path);
  }

  static resolve(spec: string, runRoot: string): OciRuntime {
    const path = findExecutable(spec);
    if (!path) throw new BerthError('USAGE', `OCI runtime "${spec}" not found: install crun or runc, or give --runtime a path`, { exitCode: ExitCode.engine });
    return new OciRuntime(path, join(runRoot, 'runtime', basename(path)));
  }

  /** Arguments that go before the subcommand (conmon passes them as --runtime-arg). */
  get globalArgs(): string[] {
    // Rootless without delegated cgroups, the runtime must not need one: crun makes none, runc
    // ignores the permission errors of making one (its `--rootless true`).
    const noCgroups = !cgroupsDisabled() ? [] : this.name === 'crun' ? ['--cgroup-manager=disabled'] : this.name === 'runc' ? ['--rootless=true'] : [];
    return ['--root', this.stateRoot, ...noCgroups, ...invocationFlags];
  }

  private async call(args: string[]): Promise<string> {
    try {
      const { stdout } = await exec(this.path, [...this.globalArgs, ...args], { maxBuffer: 16 << 20 });
      return stdout;
    } catch (e) {
      const stderr = String((e as { stderr?: string }).stderr ?? '').trim();
      throw new BerthError('INTERNAL', `${this.name} ${args[0]}: ${lastLine(stderr) || (e as Error).message}`, { cause: e });
    }
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    try {
      return JSON.parse(await this.call(['state', id])) as RuntimeState;
    } catch {
      return undefined;
    }
  }

  start(id: string): Promise<string> {
    return this.call(['start', id]);
  }

  /** Sends a signal to the container's init process (or, with all, to every process in it). */
  async kill(id: string, signal: string, all = false): Promise<void> {
    // --all finds the processes through the container's cgroup: without one (rootless on cgroup v1)
    // it fails, where the init process alone takes its PID namespace down with it.
    await this.call(['kill', ...(all && !cgroupsDisabled() ? ['--all'] : []), id, signal]);
  }

  /** Changes a running container's cgroup limits (`update --resources FILE`: linux.resources' JSON). */
  async update(id: string, resourcesFile: string): Promise<void> {
    await this.call(['update', '--resources', resourcesFile, id]);
  }

  async pause(id: string): Promise<void> {
    await this.call(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.call(['resume', id]);
  }

  /** Whether the runtime holds state for the container (its state directory exists under our root). */
  knows(id: string): boolean {
    return existsSync(join(this.stateRoot, id));
  }

  /** Forgets the container; `force` also kills what still runs. A container it does not know is fine. */
  async delete(id: string, force = false): Promise<void> {
    // Nothing to forget: skip a process spawn on every start and every cleanup that follows one.
    if (!this.knows(id)) return;
    try {
      await this.call(['delete', ...(force ? ['--force'] : []), id]);
    } catch (e) {
      if (/does not exist|not exist|no such/i.test((e as Error).message)) return;
      throw e;
    }
  }

  /** PIDs of every process in the container (runtime `ps`). */
  async pids(id: string): Promise<number[]> {
    // `ps` reads the container's cgroup; without one (rootless on cgroup v1), its PID namespace says.
    if (cgroupsDisabled()) return pidsInNamespaceOf((await this.state(id))?.pid ?? 0);
    const out = await this.call(['ps', '--format', 'json', id]);
    return (JSON.parse(out) as number[] | null) ?? [];
  }

  /** Runs a process in the container, in the foreground, with the given stdio. */
  execProcess(
    id: string,
    processJsonPath: string,
    opts: { tty: boolean; detach: boolean; stdio: StdioOptions; pidFile?: string; pty?: boolean },
  ): ChildProcess {
    const args = [
      ...this.globalArgs,
      'exec',
      '--process',
      processJsonPath,
      ...(opts.tty ? ['--tty'] : []),
      ...(opts.detach ? ['--detach'] : []),
      ...(opts.pidFile ? ['--pid-file', opts.pidFile] : []),
      id,
    ];
    if (opts.pty) {
      // The process's terminal (terminal: true in its process file) is made by the runtime from the one on its stdin.
      const wrapped = underPty(this.path, args);
      return spawn(wrapped.command, wrapped.args, { stdio: opts.stdio, env: wrapped.env });
    }
    return spawn(this.path, args, { stdio: opts.stdio });
  }
}

function lastLine(s: string): string {
  const lines = s.split('\n').filter(Boolean);
  const line = lines.at(-1) ?? '';
  // runc logs as logfmt (level=error msg="..."), crun as plain text.
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return m ? m[1]!.replace(/\\"/g, '"') : line;
}

/** The processes in the PID namespace of `pid` (the container's init), found through /proc. */
async function pidsInNamespaceOf(pid: number): Promise<number[]> {
  const ns = await readlink(`/proc/${pid}/ns/pid`).catch(() => undefined);
  if (!ns) return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if ((await readlink(`/proc/${entry}/ns/pid`).catch(() => undefined)) === ns) pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}
