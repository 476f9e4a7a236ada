import { constants, readFileSync } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { isRootless } from '../util/rootless.js';
import { BerthError } from '../util/errors.js';
import type { PortMapping } from './types.js';

/**
 * What slirp4netns and pasta have in common: a user-mode forwarder outside the container's network
 * namespace that gives it a tap device, NAT and published ports, and needs no privilege beyond the
 * namespace's owner (so it serves rootless containers as it serves root's).
 */
export type ForwarderProgram = 'slirp4netns' | 'pasta';

/** A forwarder as a container's network state records it: enough to end it and remove its files. */
export interface ForwarderState {
  program: ForwarderProgram;
  /** Its PID; 0 while not known yet (pasta's, until it has daemonized). */
  pid: number;
  /** The files it uses under the run root (API socket, log, PID file), removed with it. */
  files: string[];
}

/** A forwarder being started: its state, and the descriptor that ties its life to the container's monitor. */
export interface StartingForwarder {
  state: ForwarderState;
  /**
   * slirp4netns's exit descriptor (the write end of a pipe whose read end it polls): handed to
   * conmon, which holds it while it lives, so that the forwarder ends with the monitor even when
   * the monitor is killed and no cleanup runs.
   */
  exitFd?: number;
  /** Closes berth's own copy of exitFd (once the monitor holds its copy, or the start failed); idempotent. */
  release(): void;
  /** Resolves with the final state once the namespace is configured and every port is published. */
  ready: Promise<ForwarderState>;
}

/**
 * How long a forwarder may take to set the namespace up: it either reports or exits at once, so
 * this bounds only a hang, which would otherwise hold a start (and its undo) forever.
 */
export const FORWARDER_READY_MS = 30_000;

/**
 * One line of a forwarder's complaint: its last non-empty line, less pasta's syslog noise and
 * slirp4netns's warnings (written to stdout, buffered, so they reach a shared log after the error).
 */
export function lastLine(text: string): string {
  // slirp4netns ends some errors without a newline: a warning flushed after one joins its line.
  const lines = text
    .replace(/WARNING:/g, '\nWARNING:')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Failed to send \d+ bytes to syslog$/.test(l));
  return lines.filter((l) => !l.startsWith('WARNING:')).at(-1) ?? lines.at(-1) ?? '';
}

/** Whether a PID is a running process (a zombie, which no init here may reap, counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Ends a forwarder (SIGTERM) and waits, briefly, until it is gone: pasta holds the namespace file
 * open, which must be closed before the namespace can be unmounted. Its files go with it.
 */
export async function stopForwarder(state: ForwarderState, waitMs = 2000): Promise<void> {
  if (state.pid > 0 && running(state.pid)) {
    try {
      process.kill(state.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    for (const deadline = Date.now() + waitMs; running(state.pid) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(state.files.map((f) => rm(f, { force: true })));
}

/** The protocols a user-mode forwarder publishes: SCTP is neither slirp4netns's nor pasta's. */
export function checkForwardedProtocols(program: ForwarderProgram, ports: readonly PortMapping[]): void {
  const sctp = ports.find((p) => p.protocol === 'sctp');
  if (sctp) throw new BerthError('USAGE', `--network ${program} cannot publish SCTP ports (${sctp.container_port}/sctp): use tcp or udp, or a bridge network`);
}

/**
 * Rootless, slirp4netns and pasta open /dev/net/tun as the user: where the device is closed to
 * users (this machine kind has it 0600; Debian ships 0666), one line says so before either starts.
 */
export async function requireTunForUsers(program: ForwarderProgram): Promise<void> {
  if (!isRootless()) return;
  try {
    await access('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    throw new BerthError(
      'USAGE',
      `/dev/net/tun is not accessible: rootless ${program} needs it open to users (mode 0666, as Debian ships it: chmod 0666 /dev/net/tun), or use --network none`,
    );
  }
}
