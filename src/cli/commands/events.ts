import { withStore } from '../../engine/index.js';
import { type BerthEvent, eventNanos, parseEventFilters, parseEventTime, readEvents } from '../../engine/system/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { goJson } from '../output/_json.js';
import { isJsonFormat, renderReport } from '../output/template.js';
import { parseBool } from './_registry-opts.js';
import { BerthError } from '../../util/errors.js';

interface EventsFlags {
  filter: string[];
  format?: string;
  since?: string;
  until?: string;
  stream?: boolean | string;
}

/** Go's time.Time.String() in UTC with nanoseconds: `2026-12-03 06:00:00.123456789 +0000 UTC`. */
function goTimeNanos(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** podman's human line (events.Event.ToHumanReadable). */
function humanLine(e: BerthEvent): string {
  const time = goTimeNanos(eventNanos(e));
  const id = e.ID ?? '';
  switch (e.Type) {
    case 'container': {
      const labels = Object.keys(e.Attributes ?? {})
        .sort()
        .map((k) => `, ${k}=${e.Attributes![k]}`)
        .join('');
      return `${time} ${e.Type} ${e.Status} ${id} (image=${e.Image ?? ''}, name=${e.Name ?? ''}${labels})`;
    }
    case 'image':
      return `${time} ${e.Type} ${e.Status} ${id} ${e.Name ?? ''}`;
    case 'secret':
      return `${time} ${e.Type} ${e.Status} ${id}`;
    case 'network': {
      // podman: `(name=NET, type=DRIVER)` for create and remove, `(container=ID, name=NET)` for connect and disconnect.
      const network = e.Network ?? e.Attributes?.['network'] ?? e.Name ?? '';
      const driver = e.Attributes?.['driver'];
      if (e.Status === 'create' || e.Status === 'remove') return `${time} ${e.Type} ${e.Status} ${id} (name=${network}${driver ? `, type=${driver}` : ''})`;
      return `${time} ${e.Type} ${e.Status} ${id} (container=${id}, name=${network})`;
    }
    case 'pod':
      return `${time} ${e.Type} ${e.Status} ${id} (image=${e.Image ?? ''}, name=${e.Name ?? ''})`;
    case 'system':
      return e.Name ? `${time} ${e.Type} ${e.Status} ${e.Name}` : `${time} ${e.Type} ${e.Status}`;
    default:
      return `${time} ${e.Type} ${e.Status} ${e.Name ?? ''}`;
  }
}

/** The fields a --format template sees: podman's Event struct (plus Docker's TimeNano). */
function templateRow(e: BerthEvent): object {
  const attributes = new Map(Object.entries(e.Attributes ?? {}));
  const ns = eventNanos(e);
  const row = {
    ContainerExitCode: e.ContainerExitCode ?? 0,
    PodID: e.PodID ?? '',
    ID: e.ID ?? '',
    Image: e.Image ?? '',
    Name: e.Name ?? '',
    Network: e.Network ?? '',
    Status: e.Status,
    Time: goTimeNanos(ns),
    TimeNano: ns,
    Type: e.Type,
    HealthStatus: e.HealthStatus ?? '',
    Attributes: attributes,
    Details: { ID: '', Attributes: attributes },
  };
  // {{json .}} prints the event as logged, as podman's does.
  Object.defineProperty(row, 'toJSON', { value: () => e, enumerable: false });
  return row;
}

/**
 * `berth events`: the store's event log, filtered. Streams new events until interrupted unless
 * --stream=false; --since/--until add logged events (and --until ends the stream).
 */
export async function run(g: GlobalOptions, f: EventsFlags): Promise<void> {
  // --events-backend none records nothing: reading would wait for events that never come.
  if (g.eventsBackend === 'none') throw new BerthError('USAGE', 'cannot read events with the "none" backend');
  const filter = parseEventFilters(f.filter);
  const since = f.since === undefined ? undefined : parseEventTime(f.since, true);
  const until = f.until === undefined ? undefined : parseEventTime(f.until, false);
  const stream = f.stream === undefined ? true : parseBool(f.stream, '--stream');
  const format = f.format;
  const print = (e: BerthEvent) => {
    if (format === undefined || format === '') return `${humanLine(e)}\n`;
    if (isJsonFormat(format)) return `${goJson(e, { escapeHtml: true })}\n`;
    return renderReport(format, [templateRow(e)], { name: 'events' });
  };
  // A template that does not parse fails now, not at the first event of a stream.
  if (format && !isJsonFormat(format)) renderReport(format, [], { name: 'events' });
  const abort = new AbortController();
  // A closed pipe (`berth events | head -1`) ends the stream instead of failing.
  process.stdout.on('error', () => abort.abort());
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await withStore(engineOptions(g), async (store) => {
      for await (const e of readEvents(store, {
        filter,
        stream,
        signal: abort.signal,
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
      })) {
        if (abort.signal.aborted) break;
        process.stdout.write(print(e));
      }
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
