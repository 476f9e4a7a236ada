import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRecord, HealthConfig } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { BerthError } from '../../util/errors.js';
import { DirLock } from '../../util/lock.js';
import { execProcessSpec, withProcessFile } from './exec.js';
import { startContainer, stopContainer } from './lifecycle.js';
import { killContainer } from './kill.js';
import { runtimeFor } from './current.js';
import { containerEvent } from '../system/events.js';
import { containerPaths } from './paths.js';
import { parseGoDuration } from '../../util/go-duration.js';

/** Docker's defaults, which podman keeps: every 30 s, 30 s to answer, unhealthy after 3 failures. */
const DEFAULT_INTERVAL = 30e9;
const DEFAULT_TIMEOUT = 30e9;
const DEFAULT_RETRIES = 3;
/** As docker and podman: the last five results, each output cut to 4 KiB. */
const KEEP_RESULTS = 5;
const MAX_OUTPUT = 4096;

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** What `inspect` shows as `.State.Health`: the same JSON podman keeps in its healthcheck log. */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthResult[];
}

/** The `--health-*` flags as the CLI hands them over. */
/** The `--health-*` flags as commander hands them over (absent ones undefined). */
export interface HealthFlags {
  healthCmd?: string | undefined;
  healthInterval?: string | undefined;
  healthRetries?: string | undefined;
  healthStartPeriod?: string | undefined;
  healthTimeout?: string | undefined;
  healthOnFailure?: string | undefined;
  noHealthcheck?: boolean | undefined;
}

const ON_FAILURE = ['none', 'kill', 'restart', 'stop'] as const;

/** A `--health-*` duration in nanoseconds, with pflag's message for one that is not. */
export function parseHealthDuration(value: string, flag: string): number {
  const ns = parseGoDuration(value);
  if (ns === undefined || ns < 0) throw new BerthError('USAGE', `invalid argument "${value}" for "${flag}" flag: time: invalid duration "${value}"`);
  return ns;
}

/** `--health-cmd`: a JSON array is taken as the test itself (`["CMD", ...]`), anything else as a shell command. */
function parseTest(cmd: string): string[] {
  if (cmd.trim().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(cmd);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') && parsed.length > 0) {
      const kind = parsed[0]!.toUpperCase();
      if (kind === 'CMD' || kind === 'CMD-SHELL' || kind === 'NONE') return [kind, ...parsed.slice(1)];
      return ['CMD', ...parsed];
    }
  }
  return ['CMD-SHELL', cmd];
}

/**
 * The container's healthcheck: the flags over the image's HEALTHCHECK, as podman merges them.
 * `--no-healthcheck`, `--health-cmd none` and an image's `HEALTHCHECK NONE` turn it off.
 */
export function healthConfig(flags: HealthFlags, image: unknown): HealthConfig | undefined {
  const tuning = flags.healthInterval ?? flags.healthRetries ?? flags.healthStartPeriod ?? flags.healthTimeout ?? flags.healthOnFailure;
  if (flags.noHealthcheck) {
    if (flags.healthCmd !== undefined || tuning !== undefined)
      throw new BerthError('USAGE', 'cannot specify both --no-healthcheck and other health-check options');
    return undefined;
  }
  const fromImage = (image && typeof image === 'object' ? image : {}) as Partial<HealthConfig>;
  let test = Array.isArray(fromImage.Test) ? fromImage.Test : undefined;
  if (flags.healthCmd !== undefined) test = flags.healthCmd.trim().toLowerCase() === 'none' ? ['NONE'] : parseTest(flags.healthCmd);
  if (!test || test.length === 0 || test[0] === 'NONE') {
    if (flags.healthCmd === undefined && tuning !== undefined && !test)
      throw new BerthError('USAGE', 'healthcheck options given without a healthcheck: use --health-cmd (the image has no HEALTHCHECK)');
    return undefined;
  }
  if ((test[0] === 'CMD' || test[0] === 'CMD-SHELL') && test.length < 2) throw new BerthError('USAGE', 'healthcheck command is empty');
  const hc: HealthConfig = {
    Test: test,
    Interval: fromImage.Interval || DEFAULT_INTERVAL,
    Timeout: fromImage.Timeout || DEFAULT_TIMEOUT,
    StartPeriod: fromImage.StartPeriod ?? 0,
    Retries: fromImage.Retries || DEFAULT_RETRIES,
    OnFailure: 'none',
  };
  if (flags.healthInterval !== undefined) {
    // podman: "disable" (or 0) means no timer: the check runs only when asked.
    hc.Interval = flags.healthInterval === 'disable' ? 0 : parseHealthDuration(flags.healthInterval, '--health-interval');
    if (hc.Interval !== 0 && hc.Interval < 1e9) throw new BerthError('USAGE', 'healthcheck-interval must be at least 1 second');
  }
  if (flags.healthTimeout !== undefined) {
    hc.Timeout = parseHealthDuration(flags.healthTimeout, '--health-timeout');
    if (hc.Timeout < 1e9) throw new BerthError('USAGE', 'healthcheck-timeout must be at least 1 second');
  }
  if (flags.healthStartPeriod !== undefined) {
    hc.StartPeriod = parseHealthDuration(flags.healthStartPeriod, '--health-start-period');
  }
  if (flags.healthRetries !== undefined) {
    const n = Number(flags.healthRetries);
    if (!Number.isInteger(n) || n < 1) throw new BerthError('USAGE', 'healthcheck-retries must be greater than 0');
    hc.Retries = n;
  }
  if (flags.healthOnFailure !== undefined) {
    const action = flags.healthOnFailure.toLowerCase();
    if (!(ON_FAILURE as readonly string[]).includes(action))
      throw new BerthError(
        'USAGE',
        `invalid on-failure action "${flags.healthOnFailure}" for health check: supported actions are none, kill, restart and stop`,
      );
    hc.OnFailure = action as HealthConfig['OnFailure'];
  }
  return hc;
}

function healthFile(store: Store, id: string): string {
  return join(containerPaths(store, id).bundle, 'healthcheck.log');
}

/** The container's health as last recorded: `starting` until a first check has run. */
export async function readHealth(store: Store, id: string): Promise<HealthState> {
  try {
    return JSON.parse(await readFile(healthFile(store, id), 'utf8')) as HealthState;
  } catch {
    return { Status: 'starting', FailingStreak: 0, Log: [] };
  }
}

/** A (re)started container starts its health over, as podman does. */
export async function resetHealth(store: Store, id: string): Promise<void> {
  await rm(healthFile(store, id), { force: true });
}

/** The argv of a test, or undefined when it has none to run. */
function testArgv(test: string[]): string[] {
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return test;
}

/** Runs the test inside the container, bounded by its timeout; what it printed, cut as docker cuts it. */
async function runTest(store: Store, c: ContainerRecord, hc: HealthConfig): Promise<HealthResult> {
  const start = new Date();
  const proc = await execProcessSpec(store, c, testArgv(hc.Test));
  proc.terminal = false;
  const { code, output } = await withProcessFile(
    store,
    c,
    proc,
    (file) =>
      new Promise<{ code: number; output: string }>((resolve, reject) => {
        const runtime = runtimeFor(store, c);
        const child = runtime.execProcess(c.id, file, { tty: false, detach: false, stdio: ['ignore', 'pipe', 'pipe'] });
        const chunks: Buffer[] = [];
        let size = 0;
        const keep = (d: Buffer) => {
          if (size < MAX_OUTPUT) chunks.push(d.subarray(0, MAX_OUTPUT - size));
          size += d.length;
        };
        child.stdout?.on('data', keep);
        child.stderr?.on('data', keep);
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, hc.Timeout / 1e6);
        child.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        child.on('close', (status) => {
          clearTimeout(timer);
          if (timedOut) resolve({ code: -1, output: `Health check exceeded timeout (${hc.Timeout / 1e9}s)` });
          else resolve({ code: status ?? -1, output: Buffer.concat(chunks).toString('utf8') });
        });
      }),
  );
  return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: code, Output: output };
}

/**
 * `healthcheck run`: runs the container's test once and records the result (under a lock of its
 * own, so the timer and a user's run never lose each other's results). A failure inside the start
 * period does not count against the container, as docker and podman do; a success ends the
 * start period. Returns the container's new state and this check's verdict.
 */
export async function runHealthcheck(store: Store, c: ContainerRecord): Promise<{ state: HealthState; verdict: HealthStatus }> {
  const hc = c.config.healthcheck;
  if (!hc) throw new BerthError('USAGE', `container ${c.id} has no defined healthcheck`);
  if (c.state.status !== 'running') throw new BerthError('CONTAINER_STATE', `container ${c.id} is not running`);
  const result = await runTest(store, c, hc);
  const lock = new DirLock(`${healthFile(store, c.id)}.lock`);
  return lock.with(async () => {
    const state = await readHealth(store, c.id);
    const started = c.state.startedAt ? Date.parse(c.state.startedAt) : 0;
    const inStartPeriod = hc.StartPeriod > 0 && Date.now() - started < hc.StartPeriod / 1e6;
    if (result.ExitCode === 0) {
      state.Status = 'healthy';
      state.FailingStreak = 0;
    } else if (!(inStartPeriod && state.Status === 'starting')) {
      state.FailingStreak++;
      if (state.FailingStreak >= hc.Retries) state.Status = 'unhealthy';
    }
    state.Log = [...state.Log, result].slice(-KEEP_RESULTS);
    await writeFileAtomic(healthFile(store, c.id), JSON.stringify(state));
    // podman's answer for this one check: a failure inside the start period is "starting".
    const verdict: HealthStatus = result.ExitCode === 0 ? 'healthy' : inStartPeriod && state.Status === 'starting' ? 'starting' : 'unhealthy';
    return { state, verdict };
  }, 60_000);
}

/**
 * Runs the check and, when the container is unhealthy, takes its `--health-on-failure` action
 * (kill, stop or restart), as podman does after each failing check.
 */
export async function checkHealth(store: Store, c: ContainerRecord): Promise<{ state: HealthState; verdict: HealthStatus }> {
  const checked = await runHealthcheck(store, c);
  const { state } = checked;
  await containerEvent(store, c, 'health_status', undefined, state.Status);
  const action = c.config.healthcheck?.OnFailure ?? 'none';
  if (state.Status === 'unhealthy' && action !== 'none') {
    if (action === 'kill') await killContainer(store, c.id, 'KILL');
    else if (action === 'stop') await stopContainer(store, c.id);
    else {
      await stopContainer(store, c.id);
      await startContainer(store, c.id);
    }
  }
  return checked;
}

/**
 * The timer of a container's healthcheck: a small shell loop, started once the container runs and
 * kept among its helper processes (so stop and cleanup end it), that asks berth to run the check
 * at once, then an interval after each check ends. That is podman's schedule: it starts the
 * check's systemd service as the container starts, and its timer fires an interval after the
 * service was last inactive (dockerd waits an interval before its first check). berth has no
 * daemon, and this host no systemd timers, so this takes their place. The loop ends by itself once
 * berth says the container is gone or stopped (exit code 125). Nothing the user gave reaches the
 * shell's text: the command comes in as arguments.
 */
export function startHealthTimer(berthArgv: string[], store: { root: string; runRoot: string }, c: ContainerRecord): number | undefined {
  const hc = c.config.healthcheck;
  if (!hc || hc.Interval <= 0) return undefined;
  const seconds = String(Math.max(1, Math.round(hc.Interval / 1e9)));
  const script = 'interval=$1; shift; while :; do "$@" >/dev/null 2>&1; [ $? -eq 125 ] && exit 0; sleep "$interval"; done';
  const child = spawn(
    '/bin/sh',
    ['-c', script, 'berth-healthcheck', seconds, ...berthArgv, '--root', store.root, '--runroot', store.runRoot, 'healthcheck', 'run', '--ignore-result', c.id],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  child.unref();
  return child.pid;
}
