import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseLogChunk, tailEntries, type LogEntry } from '../../runtime/k8s-log.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { getContainer } from './lifecycle.js';
import { containerPaths } from './paths.js';

export interface LogReadOptions {
  /** Keep reading while the container runs; ends once it has stopped and its last output is read. */
  follow?: boolean;
  /** Only the last N lines of what is there now (negative or undefined: all). */
  tail?: number;
  /** Entries from / up to these times (ms since the epoch). */
  since?: number;
  until?: number;
  /** Ends a follow early (the reader went away). */
  signal?: AbortSignal;
}

/** How often a follow looks for more output (conmon writes the log; nothing tells us when). */
const FOLLOW_POLL_MS = 100;

/**
 * A container's log (conmon's k8s-file) as entries, for `logs` and the API's logs: what is there,
 * then with `follow` what comes until the container stops. A container never started has none.
 */
export async function* readContainerLog(store: Store, nameOrId: string, opts: LogReadOptions = {}): AsyncGenerator<LogEntry> {
  const c = await getContainer(store, nameOrId);
  if (c.config.logDriver === 'none') {
    // podman's words for it.
    throw new BerthError('CONTAINER_STATE', "this container is using the 'none' log driver, cannot read logs: this container is not logging output");
  }
  const fh = await open(containerPaths(store, c.id).log, 'r').catch(() => undefined);
  if (!fh) return;
  const wanted = (e: LogEntry) => {
    if (opts.since === undefined && opts.until === undefined) return true;
    const t = Date.parse(e.time);
    return !(opts.since !== undefined && t < opts.since) && !(opts.until !== undefined && t > opts.until);
  };
  try {
    let pos = 0;
    let rest = '';
    const readMore = async (): Promise<LogEntry[]> => {
      const out: LogEntry[] = [];
      for (;;) {
        const buf = Buffer.alloc(1 << 16);
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) return out;
        pos += bytesRead;
        const parsed = parseLogChunk(rest + buf.subarray(0, bytesRead).toString('utf8'));
        rest = parsed.rest;
        out.push(...parsed.entries);
      }
    };
    for (const e of tailEntries(await readMore(), opts.tail ?? -1)) if (wanted(e)) yield e;
    if (!opts.follow) return;
    while (!opts.signal?.aborted) {
      // The state is read before the log: output written just before the stop is still read below.
      const status = (await getContainer(store, c.id).catch(() => undefined))?.state.status;
      const more = await readMore();
      for (const e of more) if (wanted(e)) yield e;
      if (status !== 'running' && status !== 'paused' && status !== 'stopping') return;
      if (more.length === 0) await sleep(FOLLOW_POLL_MS, undefined, opts.signal ? { signal: opts.signal } : {}).catch(() => undefined);
    }
  } finally {
    await fh.close();
  }
}
