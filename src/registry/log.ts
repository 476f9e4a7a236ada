// The registry's log on stderr. "text" (the default) is the human lines `registry serve` always wrote:
// startup, warnings, internal errors, GC summaries, and no line per request. "json" is one pino JSON
// object per line, a line per request among them, for log collectors (journald, Kubernetes, Loki...).
import { format as formatText } from 'node:util';
import { pino, type Logger } from 'pino';
import type { GcReport } from './gc.js';

export type LogFormat = 'json' | 'text';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One request, as its log line has it. */
export interface RequestLogEntry {
  requestId: string;
  method: string;
  path: string;
  /** The query string without its `?`, when there is one. */
  query?: string;
  /** The route kind, as /metrics labels it. */
  route: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  remoteAddress?: string;
  /** The user access control identified (a Basic user or a token's subject). */
  user?: string;
  /** The client went away before the response was complete. */
  aborted?: boolean;
}

export interface RegistryLog {
  readonly format: LogFormat;
  request(entry: RequestLogEntry): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** `error` goes out with its stack (text: as console.error prints it). */
  error(message: string, error?: unknown, fields?: Record<string, unknown>): void;
  /** Writes out what is buffered (before the process exits). */
  flush(): void;
}

export interface RegistryLogOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go: a writable stream (tests) or a file descriptor; default stderr. */
  destination?: NodeJS.WritableStream | number;
}

const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export function createRegistryLog(opts: RegistryLogOptions = {}): RegistryLog {
  const level = opts.level ?? 'info';
  const dest = opts.destination ?? 2;
  return opts.format === 'json' ? new JsonLog(level, dest) : new TextLog(level, dest);
}

class TextLog implements RegistryLog {
  readonly format = 'text';
  constructor(
    private readonly level: LogLevel,
    private readonly dest: NodeJS.WritableStream | number,
  ) {}

  private write(level: LogLevel, line: string): void {
    if (RANK[level] < RANK[this.level]) return;
    if (typeof this.dest === 'number') {
      if (this.dest === 2) process.stderr.write(line);
      else if (this.dest === 1) process.stdout.write(line);
      else throw new Error(`text log: file descriptor ${this.dest} is not supported`);
    } else this.dest.write(line);
  }

  request(): void {}

  info(message: string): void {
    this.write('info', `${message}\n`);
  }

  warn(message: string): void {
    this.write('warn', `${message}\n`);
  }

  error(message: string, error?: unknown): void {
    // As console.error(`${message}:`, error) printed it before there was a log.
    this.write('error', `${error === undefined ? message : formatText(`${message}:`, error)}\n`);
  }

  flush(): void {}
}

class JsonLog implements RegistryLog {
  readonly format = 'json';
  private readonly logger: Logger;
  private readonly boom: ReturnType<typeof pino.destination> | undefined;

  constructor(level: LogLevel, dest: NodeJS.WritableStream | number) {
    // Asynchronous writes: a request line must not wait for a slow reader of stderr. flush() at exit.
    this.boom = typeof dest === 'number' ? pino.destination({ dest, sync: false }) : undefined;
    this.logger = pino(
      {
        level,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      this.boom ?? (dest as NodeJS.WritableStream as pino.DestinationStream),
    );
  }

  request(entry: RequestLogEntry): void {
    this.logger.info(entry, 'request');
  }

  info(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.info(fields, message);
  }

  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.warn(fields, message);
  }

  error(message: string, error?: unknown, fields: Record<string, unknown> = {}): void {
    this.logger.error(error === undefined ? fields : { ...fields, err: error }, message);
  }

  flush(): void {
    try {
      this.boom?.flushSync();
    } catch {
      // Not ready yet (nothing written) or stderr gone: nothing to save.
    }
  }
}

/**
 * A collection's outcome in the log: failures always; a report in the text log only when something was removed
 * (as before), in the JSON log always (a collector counts runs).
 */
export function logGcReport(log: RegistryLog, r: GcReport | Error): void {
  if (r instanceof Error) {
    log.error('registry: garbage collection failed', r);
    return;
  }
  const removed = r.blobsRemoved.length + r.manifestsRemoved.length + r.uploadsRemoved.length;
  if (removed === 0 && log.format === 'text') return;
  log.info(
    `registry: gc removed ${r.manifestsRemoved.length} manifests, ${r.blobsRemoved.length} blobs, ${r.uploadsRemoved.length} uploads (${r.bytesFreed} bytes)`,
    {
      gc: {
        dryRun: r.dryRun,
        repositories: r.repositories,
        manifestsRemoved: r.manifestsRemoved.length,
        blobsRemoved: r.blobsRemoved.length,
        blobsKept: r.blobsKept,
        uploadsRemoved: r.uploadsRemoved.length,
        bytesFreed: r.bytesFreed,
      },
    },
  );
}
