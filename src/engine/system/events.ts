import { join } from 'node:path';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { trace } from '../../util/trace.js';
import { appendLine, tailLines } from './_event-log.js';
import { runRootOf } from '../containers/paths.js';
import { parseGoDuration } from '../../util/go-duration.js';

/**
 * What happened in the store, as podman's `events` reports it: one JSON line per event in
 * `<runroot>/events/events.log` (podman's file backend keeps its log in its tmpdir: volatile, like
 * the run root). Written by every berth process where an operation happens; read by `berth events`
 * and, later, the Docker API's `/events`.
 */

export type EventType = 'container' | 'image' | 'volume' | 'secret' | 'network' | 'pod' | 'system';

/** One event, with podman's field names (its JSON lines are these objects). */
export interface BerthEvent {
  /** A died event's exit code (left out when 0, as podman's omitempty does). */
  ContainerExitCode?: number;
  /** A health_status event's verdict (healthy, unhealthy, starting). */
  HealthStatus?: string;
  ID?: string;
  /** A container's image, as it was asked for. */
  Image?: string;
  Name?: string;
  /** A network event's network (its Name is the container's for connect and disconnect, as podman's). */
  Network?: string;
  Status: string;
  /** RFC 3339 in UTC with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano). */
  Time: string;
  Type: EventType;
  /** A pod member's pod (podman writes it on container events, after Type). */
  PodID?: string;
  /** A container's labels; null for other types, as podman writes it. */
  Attributes: Record<string, string> | null;
}

export const eventLogPath = (runRoot: string) => join(runRoot, 'events', 'events.log');

let epochMinusMonotonic: bigint | undefined;

/**
 * Now, in nanoseconds since the epoch (Date has only milliseconds): the monotonic clock from a
 * wall-clock reading taken once, as `performance.timeOrigin + performance.now()` is, without the
 * global `performance`, which loads node:perf_hooks (~1 ms of every command that records an event).
 */
function nowNanos(): bigint {
  epochMinusMonotonic ??= BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return epochMinusMonotonic + process.hrtime.bigint();
}

/** Go's RFC3339Nano in UTC for a time in nanoseconds. */
export function rfc3339Nano(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

/**
 * An RFC 3339 time (any precision, any offset) in nanoseconds since the epoch, or undefined. The
 * fraction may follow a comma as ISO 8601 allows (`date --iso-8601=ns` writes one); Go reads it.
 */
export function parseRfc3339(s: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/i.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${m[4] && m[4].toUpperCase() !== 'Z' ? m[4] : 'Z'}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[3] ?? '').padEnd(9, '0') || '0');
}

/** An event's time in nanoseconds (0 when unreadable, so that it sorts first). */
export const eventNanos = (e: BerthEvent): bigint => parseRfc3339(e.Time) ?? 0n;

/**
 * podman's --since/--until: an RFC 3339 time or date, Unix seconds (with a fraction), or a
 * duration before now (--since) or after now (--until). In nanoseconds since the epoch.
 */
export function parseEventTime(value: string, since: boolean, now = nowNanos()): bigint {
  const t = parseRfc3339(value);
  if (t !== undefined) return t;
  if (/^\d+(\.\d+)?$/.test(value)) {
    const [secs, frac = ''] = value.split('.');
    return BigInt(secs!) * 1_000_000_000n + BigInt(frac.slice(0, 9).padEnd(9, '0'));
  }
  const d = parseGoDuration(value);
  if (d === undefined) throw new BerthError('USAGE', `unable to interpret time value "${value}": use RFC 3339, Unix seconds or a duration like 10m`);
  return since ? now - BigInt(Math.round(d)) : now + BigInt(Math.round(d));
}

/** Whether `--events-backend none` (or the like) turned the log off for this process. */
export const eventLogging = { enabled: true };

/** Appends an event to the store's log. Never fails the operation it records: an error is only traced. */
export async function emitEvent(store: Store, e: Omit<BerthEvent, 'Time' | 'Attributes'> & { Attributes?: Record<string, string> | null }): Promise<void> {
  if (!eventLogging.enabled) return;
  const event: BerthEvent = {
    ...(e.ContainerExitCode ? { ContainerExitCode: e.ContainerExitCode } : {}),
    ...(e.HealthStatus ? { HealthStatus: e.HealthStatus } : {}),
    ...(e.ID ? { ID: e.ID } : {}),
    ...(e.Image ? { Image: e.Image } : {}),
    ...(e.Name ? { Name: e.Name } : {}),
    ...(e.Network ? { Network: e.Network } : {}),
    Status: e.Status,
    Time: rfc3339Nano(nowNanos()),
    Type: e.Type,
    ...(e.PodID ? { PodID: e.PodID } : {}),
    Attributes: e.Attributes ?? null,
  };
  try {
    await appendLine(eventLogPath(runRootOf(store)), JSON.stringify(event));
  } catch (err) {
    trace(`events: not recorded (${(err as Error).message})`);
  }
}

/** A container event: its ID, image, name and labels (and the exit code of `died`). */
export async function containerEvent(store: Store, c: ContainerRecord, status: string, exitCode?: number, health?: string): Promise<void> {
  // A build step's container is the build's own business, as buildah's are to podman.
  if (c.config.volatile) return;
  return emitEvent(store, {
    Type: 'container',
    Status: status,
    ID: c.id,
    Image: c.imageName,
    Name: c.name,
    Attributes: { ...c.config.labels },
    ...(c.config.pod ? { PodID: c.config.pod.id } : {}),
    ...(exitCode ? { ContainerExitCode: exitCode } : {}),
    ...(health ? { HealthStatus: health } : {}),
  });
}

/** An image event: the image's ID (hex, as podman writes it) and the name or path it concerns. */
export function imageEvent(store: Store, status: string, id: string | undefined, name: string | undefined): Promise<void> {
  return emitEvent(store, { Type: 'image', Status: status, ...(id ? { ID: id.replace(/^sha256:/, '') } : {}), ...(name ? { Name: name } : {}) });
}

export function volumeEvent(store: Store, status: string, name: string): Promise<void> {
  return emitEvent(store, { Type: 'volume', Status: status, Name: name });
}

/** A pod event as podman writes it: the pod's ID and name, no attributes. */
export function podEvent(store: Store, status: string, pod: { id: string; name: string }): Promise<void> {
  return emitEvent(store, { Type: 'pod', Status: status, ID: pod.id, Name: pod.name });
}

export function secretEvent(store: Store, status: string, id: string, name: string): Promise<void> {
  return emitEvent(store, { Type: 'secret', Status: status, ID: id, Name: name });
}

/**
 * A network event as podman writes it: create and remove name the network (its ID, and its driver
 * for the `type=` of the human line); connect and disconnect name the container (ID and name) and
 * the network in `Network`.
 */
export function networkEvent(
  store: Store,
  status: string,
  network: { id: string; name: string; driver: string },
  container?: { id: string; name: string },
): Promise<void> {
  if (container) return emitEvent(store, { Type: 'network', Status: status, ID: container.id, Name: container.name, Network: network.name, Attributes: null });
  return emitEvent(store, {
    Type: 'network',
    Status: status,
    ID: network.id,
    Name: network.name,
    Network: network.name,
    Attributes: { driver: network.driver },
  });
}

export type EventPredicate = (e: BerthEvent) => boolean;

/** One --filter KEY=VALUE as podman matches it. */
function eventFilter(key: string, value: string): EventPredicate {
  switch (key.toLowerCase()) {
    case 'container':
      return (e) => e.Type === 'container' && (e.Name === value || (e.ID ?? '').startsWith(value));
    case 'image':
      return (e) => e.Type === 'image' && (e.Name === value || (e.ID ?? '').startsWith(value));
    case 'volume':
      return (e) => e.Type === 'volume' && (e.Name ?? '').startsWith(value);
    case 'pod':
      // podman's: a pod's own events, by name or ID prefix (its members' events are the container filter's).
      return (e) => e.Type === 'pod' && (e.Name === value || (e.ID ?? '').startsWith(value));
    case 'secret':
      return (e) => e.Type === 'secret' && (e.Name === value || (e.ID ?? '').startsWith(value));
    case 'network':
      return (e) => e.Type === 'network' && (e.Network === value || e.Name === value || (e.ID ?? '').startsWith(value));
    case 'event':
    case 'status':
      return (e) => e.Status === value;
    case 'type':
      return (e) => e.Type === value;
    case 'label': {
      const eq = value.indexOf('=');
      const k = eq === -1 ? value : value.slice(0, eq);
      return (e) => e.Attributes !== null && k in e.Attributes && (eq === -1 || e.Attributes[k] === value.slice(eq + 1));
    }
    default:
      throw new BerthError('USAGE', `${key} is an invalid filter`);
  }
}

/**
 * podman's filter logic: filters with the same key are ORed, different keys ANDed
 * (`--filter event=start --filter event=stop --filter type=container`).
 */
export function parseEventFilters(filters: readonly string[]): EventPredicate {
  const byKey = new Map<string, EventPredicate[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new BerthError('USAGE', `${f} is an invalid filter`);
    const key = f.slice(0, eq).toLowerCase();
    byKey.set(key, [...(byKey.get(key) ?? []), eventFilter(key, f.slice(eq + 1))]);
  }
  const groups = [...byKey.values()];
  return (e) => groups.every((g) => g.some((p) => p(e)));
}

export interface ReadEventsOptions {
  filter?: EventPredicate;
  /** In nanoseconds since the epoch. */
  since?: bigint;
  until?: bigint;
  /** Wait for new events until the signal aborts (or `until` has passed). */
  stream?: boolean;
  signal?: AbortSignal;
}

/**
 * The events of the store's log, oldest first, as podman's file backend reads them: without
 * streaming, everything logged (within since/until); streaming, new events as they come, and the
 * logged ones before them only when since or until is given.
 */
export async function* readEvents(store: Store, opts: ReadEventsOptions = {}): AsyncGenerator<BerthEvent> {
  const stream = opts.stream ?? false;
  const lines = tailLines(eventLogPath(runRootOf(store)), {
    fromStart: !stream || opts.since !== undefined || opts.until !== undefined,
    follow: stream,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.until !== undefined ? { stopWhen: () => nowNanos() > opts.until! } : {}),
  });
  for await (const line of lines) {
    let e: BerthEvent;
    try {
      e = JSON.parse(line) as BerthEvent;
    } catch {
      continue; // a line cut short by a full disk or a crash: skipped, as podman skips it
    }
    if (typeof e !== 'object' || e === null || typeof e.Status !== 'string') continue;
    const t = eventNanos(e);
    if (opts.since !== undefined && t < opts.since) continue;
    if (opts.until !== undefined && t > opts.until) continue;
    if (opts.filter && !opts.filter(e)) continue;
    yield e;
  }
}
