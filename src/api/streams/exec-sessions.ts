// The Docker API's exec sessions: made by POST /containers/{id}/exec, run by /exec/{id}/start,
// read by /exec/{id}/json. They live in the service's memory: the process an exec runs is a child
// of the service (the runtime's `exec` in the foreground, our pipes its stdio), so neither the
// session nor its process outlives the service, and nothing else (the CLI) can start or inspect
// one. The exit code is set as soon as the process ends, before its stream closes, so a client
// that inspects on the stream's end (docker exec, dockerode) reads it.
import { randomBytes } from 'node:crypto';

export interface ExecConfig {
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  tty: boolean;
  cmd: string[];
  env: string[];
  user: string;
  workingDir: string;
  privileged: boolean;
  detachKeys: string;
  consoleSize?: [number, number];
}

export interface ExecSession {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  /** Set once it has run (null before). */
  exitCode: number | null;
  pid: number;
  /** A size asked for before the process ran: applied once its PID is known. */
  pendingSize?: [number, number];
}

/** How long a finished session stays to be inspected (Docker keeps them until the container goes). */
const KEEP_FINISHED_MS = 10 * 60_000;
/** Sessions never started are dropped past this many, oldest first. */
const MAX_SESSIONS = 1000;

export class ExecSessions {
  private readonly sessions = new Map<string, ExecSession>();

  create(containerId: string, config: ExecConfig): ExecSession {
    const s: ExecSession = { id: randomBytes(32).toString('hex'), containerId, config, running: false, exitCode: null, pid: 0 };
    this.sessions.set(s.id, s);
    if (this.sessions.size > MAX_SESSIONS) {
      for (const [id, old] of this.sessions) {
        if (!old.running) this.sessions.delete(id);
        if (this.sessions.size <= MAX_SESSIONS) break;
      }
    }
    return s;
  }

  /** By full ID or a unique prefix, as Docker finds them. */
  get(id: string): ExecSession | undefined {
    const exact = this.sessions.get(id);
    if (exact) return exact;
    const found = [...this.sessions.values()].filter((s) => s.id.startsWith(id));
    return found.length === 1 ? found[0] : undefined;
  }

  finished(s: ExecSession, exitCode: number): void {
    s.running = false;
    s.exitCode = exitCode;
    setTimeout(() => this.sessions.delete(s.id), KEEP_FINISHED_MS).unref();
  }
}

/** GET /exec/{id}/json (moby's ExecInspect). */
export function execInspectJson(s: ExecSession) {
  const [entrypoint = '', ...args] = s.config.cmd;
  return {
    CanRemove: false,
    ContainerID: s.containerId,
    DetachKeys: s.config.detachKeys,
    ExitCode: s.exitCode,
    ID: s.id,
    OpenStderr: s.config.attachStderr,
    OpenStdin: s.config.attachStdin,
    OpenStdout: s.config.attachStdout,
    ProcessConfig: { arguments: args, entrypoint, privileged: s.config.privileged, tty: s.config.tty, user: s.config.user },
    Running: s.running,
    Pid: s.pid,
  };
}

/** The body of POST /containers/{id}/exec (moby's ExecConfig) as ours; throws a message for a bad one. */
export function parseExecConfig(body: unknown): ExecConfig | string {
  const b = (body ?? {}) as Record<string, unknown>;
  const strings = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
  const cmd = strings(b.Cmd);
  if (!cmd || cmd.length === 0) return 'No exec command specified';
  const size = Array.isArray(b.ConsoleSize) && b.ConsoleSize.length === 2 ? (b.ConsoleSize as [number, number]) : undefined;
  return {
    attachStdin: b.AttachStdin === true,
    attachStdout: b.AttachStdout === true,
    attachStderr: b.AttachStderr === true,
    tty: b.Tty === true,
    cmd,
    env: strings(b.Env) ?? [],
    user: typeof b.User === 'string' ? b.User : '',
    workingDir: typeof b.WorkingDir === 'string' ? b.WorkingDir : '',
    privileged: b.Privileged === true,
    detachKeys: typeof b.DetachKeys === 'string' ? b.DetachKeys : '',
    ...(size && size[0] > 0 && size[1] > 0 ? { consoleSize: size } : {}),
  };
}
