// The streaming side of /containers: attach (hijacked or a plain streaming body), resize, logs,
// archive (`docker cp`) and stats. Each is a thin layer over the engine's faces: attachStreams,
// readContainerLog, copyFiles / statContainerPath and readContainerStats.
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable, type Duplex, type Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  attachStreams,
  copyFiles,
  getContainer,
  hostMemory,
  parseDetachKeys,
  readContainerLog,
  readContainerStats,
  resizeContainer,
  statContainerPath,
  type StatsReading,
} from '../../engine/index.js';
import type { ApiApp, ApiContext, UpgradeRoute } from '../context.js';
import { logChunk, parseLogTime, parseTail } from '../shapes/docker-log.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { acceptUpgrade, streamContentType } from '../streams/hijack.js';
import { clientInput, queryFlag, readUpgradeBody } from '../streams/hijack-body.js';
import { isGoDir, goFileMode, pathStatHeader } from '../shapes/path-stat.js';
import { dockerStats } from '../shapes/stats-json.js';
import { streamStdio } from '../streams/stream-stdio.js';

const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';
/** Docker's interval between stats samples, and the gap a non-streamed sample's precpu is taken over. */
const STATS_INTERVAL_MS = 1000;

export function containerStreamRoutes(app: ApiApp, ctx: ApiContext): UpgradeRoute[] {
  const { store } = ctx;

  /**
   * One attach, hijacked or plain: the container's output to `out` from the moment the attach
   * is registered (a created container: from its next start), then `ready` (the caller answers
   * 101 or 200), the log first if asked for, until the output ends or the client goes.
   */
  async function attach(id: string, q: URLSearchParams, out: Writable, input: Readable | undefined, ready: (tty: boolean) => void): Promise<void> {
    const c = await getContainer(store, id);
    const tty = c.config.tty;
    const want = { stdout: queryFlag(q.get('stdout')), stderr: queryFlag(q.get('stderr')), stdin: queryFlag(q.get('stdin')) && input !== undefined };
    const detachKeys = parseDetachKeys(q.get('detachKeys') ?? undefined);
    const io = streamStdio(out, { tty, stdout: want.stdout, stderr: want.stderr, ...(want.stdin && input ? { input } : {}) });
    const stream = queryFlag(q.get('stream'));
    const attached = stream ? await attachStreams(store, c.id, { io, stdin: want.stdin, detachKeys }) : undefined;
    ready(tty);
    out.once('close', () => attached?.cancel());
    // A container without a log (`none`) has nothing to replay: the attach goes on without it.
    if (queryFlag(q.get('logs')) && c.config.logDriver !== 'none') {
      for await (const e of readContainerLog(store, c.id)) {
        if (e.stream === 'stdout' ? want.stdout : want.stderr) out.write(logChunk(e, { timestamps: false, tty }));
      }
    }
    if (attached) await attached.done;
    out.end();
  }

  app.post('/containers/:id/attach', async (c) => {
    const body = new PassThrough();
    const q = new URL(c.req.url).searchParams;
    const tty = await new Promise<boolean>((resolve, reject) => {
      attach(c.req.param('id'), q, body, undefined, resolve).catch((e: unknown) => {
        reject(e);
        body.destroy();
      });
    });
    c.env.outgoing.once('close', () => body.destroy());
    return c.body(Readable.toWeb(body) as ReadableStream, 200, { 'Content-Type': streamContentType(c.get('apiVersion'), tty) });
  });

  const hijackedAttach: UpgradeRoute = {
    method: 'POST',
    pattern: /^\/containers\/(?<id>[^/]+)\/attach$/,
    async handle(req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>, apiVersion: string) {
      await readUpgradeBody(req, socket, head);
      const q = new URL(req.url ?? '/', 'http://berth').searchParams;
      await attach(decodeURIComponent(params.id!), q, socket, clientInput(socket), (tty) => acceptUpgrade(socket, apiVersion, tty));
    },
  };

  app.post('/containers/:id/resize', async (c) => {
    const rows = Number(c.req.query('h'));
    const columns = Number(c.req.query('w'));
    if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 0 || columns < 0) throw badRequest('resize needs h and w as whole numbers');
    await resizeContainer(store, c.req.param('id'), rows, columns);
    return c.body(null, 200);
  });

  app.get('/containers/:id/logs', async (c) => {
    const q = c.req.query();
    const ctr = await getContainer(store, c.req.param('id'));
    // dockerd's answer for a driver it cannot read back.
    if (ctr.config.logDriver === 'none') throw new ApiError(501, 'configured logging driver does not support reading');
    const want = { stdout: queryFlag(q.stdout), stderr: queryFlag(q.stderr) };
    if (!want.stdout && !want.stderr) throw badRequest('Bad parameters: you must choose at least one stream');
    const since = parseLogTime(q.since, 'since');
    const until = parseLogTime(q.until, 'until');
    const abort = new AbortController();
    c.env.outgoing.once('close', () => abort.abort());
    const entries = readContainerLog(store, ctr.id, {
      follow: queryFlag(q.follow),
      tail: parseTail(q.tail),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      signal: abort.signal,
    });
    const opts = { timestamps: queryFlag(q.timestamps), tty: ctr.config.tty };
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          const next = await entries.next();
          if (next.done) return controller.close();
          if (next.value.stream === 'stdout' ? want.stdout : want.stderr) return controller.enqueue(logChunk(next.value, opts));
        }
      },
      async cancel() {
        abort.abort();
        await entries.return(undefined);
      },
    });
    return c.body(body, 200, { 'Content-Type': streamContentType(c.get('apiVersion'), ctr.config.tty) });
  });

  /** The path's stat, or Docker's 404 for a path that is not there. */
  const pathStat = async (id: string, path: string | undefined) => {
    if (!path) throw badRequest('bad parameter: path cannot be empty');
    const st = await statContainerPath(store, id, path);
    if (!st) throw notFound(`Could not find the file ${path} in container ${id}`);
    return st;
  };

  app.on('HEAD', '/containers/:id/archive', async (c) => {
    const st = await pathStat(c.req.param('id'), c.req.query('path'));
    return c.body(null, 200, { [PATH_STAT_HEADER]: pathStatHeader(st), 'Content-Type': 'application/x-tar' });
  });

  app.get('/containers/:id/archive', async (c) => {
    const id = c.req.param('id');
    const path = c.req.query('path');
    const st = await pathStat(id, path);
    const body = new PassThrough();
    copyFiles(store, { container: id, path: path! }, { stream: true }, { archive: true, overwrite: false, stdin: Readable.from([]), stdout: body }).then(
      () => body.end(),
      (e: unknown) => body.destroy(e as Error),
    );
    c.env.outgoing.once('close', () => body.destroy());
    return c.body(Readable.toWeb(body) as ReadableStream, 200, { [PATH_STAT_HEADER]: pathStatHeader(st), 'Content-Type': 'application/x-tar' });
  });

  app.put('/containers/:id/archive', async (c) => {
    const id = c.req.param('id');
    const path = c.req.query('path');
    const st = await pathStat(id, path);
    if (!isGoDir(goFileMode(st.mode)) && !(st.linkTarget && (await statContainerPath(store, id, st.linkTarget).then((t) => t && isGoDir(goFileMode(t.mode))))))
      throw badRequest(`extraction point is not a directory`);
    // Docker's copyUIDGID keeps the archive's owners; without it what lands is the container user's (podman's cp).
    await copyFiles(
      store,
      { stream: true },
      { container: id, path: path! },
      {
        archive: !queryFlag(c.req.query('copyUIDGID')),
        overwrite: !queryFlag(c.req.query('noOverwriteDirNonDir')),
        stdin: c.env.incoming,
        stdout: new PassThrough(),
      },
    );
    return c.body(null, 200);
  });

  app.get('/containers/:id/stats', async (c) => {
    const ctr = await getContainer(store, c.req.param('id'));
    const stream = queryFlag(c.req.query('stream'), true);
    const oneShot = queryFlag(c.req.query('one-shot'));
    const hostMem = await hostMemory();
    const sample = async () => readContainerStats(await getContainer(store, ctr.id), hostMem);
    if (!stream) {
      let previous: StatsReading | undefined;
      if (!oneShot) {
        previous = await sample();
        await sleep(STATS_INTERVAL_MS);
      }
      return c.json(dockerStats(ctr, await sample(), previous));
    }
    const abort = new AbortController();
    c.env.outgoing.once('close', () => abort.abort());
    let previous: StatsReading | undefined;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (previous) await sleep(STATS_INTERVAL_MS, undefined, { signal: abort.signal }).catch(() => undefined);
        // A container removed meanwhile ends the stream.
        const now = abort.signal.aborted ? undefined : await sample().catch(() => undefined);
        if (!now) return controller.close();
        controller.enqueue(encoder.encode(`${JSON.stringify(dockerStats(ctr, now, previous))}\n`));
        previous = now;
      },
      cancel() {
        abort.abort();
      },
    });
    return c.body(body, 200, { 'Content-Type': 'application/json' });
  });

  return [hijackedAttach];
}
