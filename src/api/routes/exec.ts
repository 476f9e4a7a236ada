// The Docker API's exec: create a session on a running container, start it (hijacked, a plain
// streaming body, or detached), inspect it for its exit code, resize its terminal. The process is
// run by the engine's execInContainer, as `berth exec` runs it; sessions: ../exec-sessions.ts.
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable, Writable, type Duplex } from 'node:stream';
import { execInContainer, getContainer, parseDetachKeys, resizeProcessTerminal } from '../../engine/index.js';
import type { ApiApp, ApiContext, UpgradeRoute } from '../context.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { jsonObject } from '../json-body.js';
import { ExecSessions, execInspectJson, parseExecConfig, type ExecSession } from '../streams/exec-sessions.js';
import { acceptUpgrade, streamContentType } from '../streams/hijack.js';
import { clientInput, readUpgradeBody } from '../streams/hijack-body.js';
import { streamStdio } from '../streams/stream-stdio.js';

/** What POST /exec/{id}/start says: run detached, and (ignored: the session's own) Tty. */
interface StartBody {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number];
}

function parseStartBody(raw: Buffer | string): StartBody {
  return jsonObject(raw.toString(), 'the exec start body') as StartBody;
}

const discard = () => new Writable({ write: (_c, _e, done) => done() });

export function execRoutes(app: ApiApp, ctx: ApiContext): UpgradeRoute[] {
  const { store } = ctx;
  const sessions = new ExecSessions();

  const session = (id: string): ExecSession => {
    const s = sessions.get(id);
    if (!s) throw notFound(`No such exec instance: ${id}`);
    return s;
  };

  const resize = (s: ExecSession, rows: number, columns: number) => {
    if (s.pid > 0) void resizeProcessTerminal(s.pid, rows, columns);
    else s.pendingSize = [rows, columns];
  };

  /**
   * Runs a session: checks it may run (before `ready`, so that a refusal is still an HTTP answer),
   * then `ready` (101 or 200), then the process with its output to `out` until it exits. The
   * exit code is recorded before `out` ends.
   */
  async function start(s: ExecSession, body: StartBody, out: Writable | undefined, input: Readable | undefined, ready: (tty: boolean) => void): Promise<void> {
    if (s.running) throw conflict(`Error: Exec command ${s.id} is already running`);
    if (s.exitCode !== null) throw conflict(`Error: Exec command ${s.id} has already run`);
    const ctr = await getContainer(store, s.containerId);
    if (ctr.state.status !== 'running') throw conflict(`container ${ctr.id} is not running`);
    const { config } = s;
    const tty = config.tty;
    const detach = body.Detach === true || !out;
    const size = body.ConsoleSize ?? config.consoleSize;
    if (size && size[0] > 0 && size[1] > 0) s.pendingSize = [size[0], size[1]];
    const stdin = config.attachStdin && !detach && input !== undefined;
    const io = streamStdio(detach ? discard() : out, {
      tty,
      stdout: config.attachStdout,
      stderr: config.attachStderr,
      ...(stdin && input ? { input } : {}),
    });
    s.running = true;
    const run = execInContainer(store, s.containerId, config.cmd, {
      interactive: stdin,
      tty,
      pty: true,
      env: config.env,
      envFile: [],
      ...(config.user ? { user: config.user } : {}),
      ...(config.workingDir ? { workdir: config.workingDir } : {}),
      privileged: config.privileged,
      detachKeys: parseDetachKeys(config.detachKeys || undefined),
      io,
      onPid: (pid) => {
        s.pid = pid;
        if (tty && s.pendingSize) void resizeProcessTerminal(pid, ...s.pendingSize);
      },
    }).then(
      // Detached by its keys, the process runs on out of our sight: still running, as Docker shows it.
      // A process the runtime could not start is dockerd's 126 whatever the reason (podman's CLI says 127 for not found).
      (r) => (r.detached ? undefined : sessions.finished(s, r.notStarted ? 126 : r.exitCode)),
      // A process that could not be run at all: Docker's code for "cannot invoke".
      () => sessions.finished(s, 126),
    );
    ready(tty);
    if (detach) {
      out?.end();
      return;
    }
    await run;
    out!.end();
  }

  app.post('/containers/:id/exec', async (c) => {
    const ctr = await getContainer(store, c.req.param('id'));
    const body = jsonObject(await c.req.text(), 'the exec body');
    const config = parseExecConfig(body);
    if (typeof config === 'string') throw badRequest(config);
    parseDetachKeys(config.detachKeys || undefined);
    if (ctr.state.status !== 'running') throw conflict(`container ${ctr.id} is not running`);
    return c.json({ Id: sessions.create(ctr.id, config).id }, 201);
  });

  app.get('/exec/:id/json', (c) => c.json(execInspectJson(session(c.req.param('id')))));

  app.post('/exec/:id/resize', (c) => {
    const s = session(c.req.param('id'));
    const rows = Number(c.req.query('h'));
    const columns = Number(c.req.query('w'));
    if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 0 || columns < 0) throw badRequest('resize needs h and w as whole numbers');
    if (!s.running && s.exitCode !== null) throw conflict(`Exec process ${s.id} is not running`);
    resize(s, rows, columns);
    return c.body(null, 200);
  });

  app.post('/exec/:id/start', async (c) => {
    const s = session(c.req.param('id'));
    const body = parseStartBody(await c.req.text());
    if (body.Detach) {
      await start(s, body, undefined, undefined, () => undefined);
      return c.body(null, 200);
    }
    const out = new PassThrough();
    const tty = await new Promise<boolean>((resolve, reject) => {
      start(s, body, out, undefined, resolve).catch((e: unknown) => {
        reject(e);
        out.destroy();
      });
    });
    return c.body(Readable.toWeb(out) as ReadableStream, 200, { 'Content-Type': streamContentType(c.get('apiVersion'), tty) });
  });

  const hijackedStart: UpgradeRoute = {
    method: 'POST',
    pattern: /^\/exec\/(?<id>[^/]+)\/start$/,
    async handle(req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>, apiVersion: string) {
      const body = parseStartBody(await readUpgradeBody(req, socket, head));
      const s = session(decodeURIComponent(params.id!));
      await start(s, body, socket, clientInput(socket), (tty) => acceptUpgrade(socket, apiVersion, tty));
    },
  };
  return [hijackedStart];
}
