import { getContainer, readContainerLog } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps?: boolean;
  names?: boolean;
}

/** A time given as RFC 3339, Unix seconds, or a duration before now (10m, 1h30m, 45s). */
export function parseTime(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(v);
  if (dur && v !== '') return now - ((Number(dur[1] ?? 0) * 60 + Number(dur[2] ?? 0)) * 60 + Number(dur[3] ?? 0)) * 1000 - Number(dur[4] ?? 0);
  // A comma before the fraction, as ISO 8601 allows and `date --iso-8601=ns` writes: Go reads it, Date does not.
  const t = Date.parse(v.replace(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),/, '$1.'));
  if (Number.isNaN(t)) throw new BerthError('USAGE', `invalid time "${v}": use RFC 3339, Unix seconds or a duration like 10m`);
  return t;
}

export async function run(g: GlobalOptions, names: string[], f: LogsFlags): Promise<void> {
  const tail = f.tail === undefined ? -1 : Number(f.tail);
  if (!Number.isInteger(tail)) throw new BerthError('USAGE', `invalid --tail "${f.tail}"`);
  const since = f.since ? parseTime(f.since) : undefined;
  const until = f.until ? parseTime(f.until) : undefined;
  await withStore(engineOptions(g), async (store) => {
    for (const name of names) {
      const c = await getContainer(store, name);
      // Several containers are told apart by short ID, as podman does; --names puts their names instead.
      const prefix = f.names ? `${c.name} ` : names.length > 1 ? `${c.id.slice(0, 12)} ` : '';
      const opts = { follow: Boolean(f.follow), tail, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
      for await (const e of readContainerLog(store, c.id, opts)) {
        const line = `${prefix}${f.timestamps ? `${e.time} ` : ''}${e.text}${e.full ? '\n' : ''}`;
        (e.stream === 'stderr' ? process.stderr : process.stdout).write(line);
      }
    }
  });
}
