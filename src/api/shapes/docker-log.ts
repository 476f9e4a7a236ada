// Container log entries as the Docker API's logs (and attach with logs=1) send them: each chunk
// in a frame of its stream (raw with a terminal), with an RFC 3339 UTC timestamp if asked for.
import type { LogEntry } from '../../engine/index.js';
import { badRequest } from '../errors.js';
import { muxFrame, STDERR, STDOUT } from '../streams/hijack.js';

/** conmon's time (RFC 3339 with nanoseconds and an offset) as Docker prints it: UTC, `Z`, the nanoseconds kept. */
export function dockerLogTime(time: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)$/.exec(time);
  if (!m) return time;
  if (m[3] === 'Z' || /^[+-]00:?00$/.test(m[3]!)) return `${m[1]}${m[2] ?? ''}Z`;
  const utc = new Date(Date.parse(`${m[1]}${m[3]}`)).toISOString().slice(0, 19);
  return `${utc}${m[2] ?? ''}Z`;
}

export function logChunk(e: LogEntry, opts: { timestamps: boolean; tty: boolean }): Buffer {
  const data = Buffer.from(`${opts.timestamps ? `${dockerLogTime(e.time)} ` : ''}${e.text}${e.full ? '\n' : ''}`);
  return opts.tty ? data : muxFrame(e.stream === 'stderr' ? STDERR : STDOUT, data);
}

/** Docker's since/until: Unix seconds with an optional fraction (the CLI sends `1700000000.000000000`); 0 or empty is none. In ms. */
export function parseLogTime(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '' || v === '0') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw badRequest(`invalid value for "${name}": ${v}`);
  return Number(v) * 1000;
}

/** Docker's tail: `all` (or empty) or a count. */
export function parseTail(v: string | undefined): number {
  if (v === undefined || v === '' || v === 'all') return -1;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for "tail": ${v}`);
  return n;
}
