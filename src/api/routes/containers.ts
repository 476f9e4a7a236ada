// The Docker API's container lifecycle routes: list, create, inspect, start/stop/restart/kill,
// pause, wait, remove, rename, top, changes, export, prune, resize. Each is the engine's own
// operation (the one `berth` runs for the same verb); the shapes are container-json.ts's and the
// create body's mapping container-create.ts's. Attach, logs, archive, stats and exec are exec.ts's.
import { Readable } from 'node:stream';
import {
  cleanupContainer,
  containerChanges,
  containerTarOptions,
  containerPruneFilter,
  containerSizes,
  containerTop,
  createContainer,
  DEFAULT_NETWORK,
  DEFAULT_TOP_DESCRIPTORS,
  filterContainers,
  findImage,
  getContainer,
  inspectContainer,
  killContainer,
  listNetworks,
  networkSettings,
  parseSignal,
  pauseContainer,
  pruneContainers,
  publishedPorts,
  readHealth,
  removeContainer,
  renameContainer,
  resizeContainerTty,
  startContainer,
  stopContainer,
  superviseCleanup,
  syncContainers,
  tarDirectory,
  unpauseContainer,
  updateContainer,
  validateContainerName,
  volumeDataDir,
  waitForCondition,
  withRootfs,
  type ContainerRecord,
  type HealthState,
  type Store,
  type WaitCondition,
} from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import type { ApiApp, ApiContext, UpgradeRoute } from '../context.js';
import { createOptionsFromDocker, imageWithTag, updateOptionsFromDocker, type DockerCreateBody, type DockerHostConfig } from '../shapes/container-create.js';
import { inspectBody, listEntry, type ContainerExtras, type EngineInspect } from '../shapes/container-json.js';
import { ApiError, badRequest, conflict, errorResponse, notFound } from '../errors.js';
import { jsonObject } from '../json-body.js';
import { dockerStartError } from '../shapes/start-errors.js';
import { filterArgs, parseFilters } from '../filters.js';
import { engineNetworkName, pseudoNetworkId } from '../shapes/network-json.js';

const LIVE = new Set(['running', 'paused', 'stopping']);

/** Docker's booleans in a query: `1`, `true`, `True`. */
const truthy = (v: string | undefined) => v !== undefined && /^(1|true)$/i.test(v);

/** A whole number of seconds from the query, or undefined when absent. */
function seconds(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: ${v}`);
  // Docker's -1 is "wait for ever"; berth's stop takes a bound.
  return n < 0 ? 2 ** 31 / 1000 : n;
}

/**
 * Starts the container with this service as its cleanup's owner, which cleans up in process when
 * it exits (conmon's exit command then sees a live owner and starts no berth of its own; once the
 * service is gone, that command or the next command to find the container does the work).
 */
async function startOwned(store: Store, id: string): Promise<void> {
  let started: ContainerRecord;
  try {
    started = await startContainer(store, id, { cleanupOwner: 'caller' });
  } catch (e) {
    // conmon's call for a process that never ran left the work to this owner: an --rm container
    // goes (a client waiting for its removal learns of it), any other stays as the start left it.
    await cleanupContainer(store, id).catch(() => undefined);
    throw e;
  }
  superviseCleanup(store, started.id, started.state.conmonPid);
}

/** A signal by name or number, as Docker's kill and stop take it; anything else is a 400. */
function checkSignal(signal: string): void {
  try {
    parseSignal(signal);
  } catch (e) {
    throw badRequest(`Invalid signal: ${signal} (${(e as Error).message})`);
  }
}

/** stop's and restart's `t` (seconds before SIGKILL) and `signal` (API 1.42: instead of the container's stop signal). */
function stopOptions(t: string | undefined, signal: string | undefined): { timeout?: number; signal?: string } {
  const timeout = seconds(t, 't');
  if (signal) checkSignal(signal);
  return { ...(timeout !== undefined ? { timeout } : {}), ...(signal ? { signal } : {}) };
}

/** Runs `fn`, giving a container that does not exist Docker's 404 wording. */
async function onContainer<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BerthError && e.code === 'CONTAINER_UNKNOWN') throw notFound(`No such container: ${id}`);
    throw e;
  }
}

async function healthOf(store: Store, c: ContainerRecord): Promise<HealthState | undefined> {
  return c.config.healthcheck && LIVE.has(c.state.status) ? readHealth(store, c.id) : undefined;
}

async function extras(store: Store, c: ContainerRecord, networkIds: ReadonlyMap<string, string>): Promise<ContainerExtras> {
  return { health: await healthOf(store, c), networkIds, volumeDir: (name) => volumeDataDir(store, name) };
}

async function networkIds(store: Store): Promise<Map<string, string>> {
  const ids = new Map((await listNetworks(store)).map((n) => [n.name, n.id]));
  for (const pseudo of ['host', 'none'] as const) ids.set(pseudo, pseudoNetworkId(store.root, pseudo));
  return ids;
}

export function containerRoutes(app: ApiApp, ctx: ApiContext): UpgradeRoute[] {
  const { store } = ctx;

  app.get('/containers/json', async (c) => {
    const q = c.req.query();
    const filters = parseFilters(q.filters);
    // Docker's clients know the default network as bridge.
    if (filters.network) filters.network = filters.network.map(engineNetworkName);
    const limit = q.limit === undefined || q.limit === '' ? -1 : Number(q.limit);
    if (!Number.isInteger(limit)) throw badRequest(`invalid limit: ${q.limit}`);
    const all = (await syncContainers(store)).sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
    const health = new Map<string, HealthState>();
    for (const x of all) {
      const h = await healthOf(store, x);
      if (h) health.set(x.id, h);
    }
    let list = filterContainers(all, filterArgs(filters), { all, health: (x) => health.get(x.id)?.Status });
    // As dockerd: a status filter or a limit reaches the stopped containers without `all`.
    if (!truthy(q.all) && limit <= 0 && !filters.status) list = list.filter((x) => LIVE.has(x.state.status));
    if (limit > 0) list = list.slice(0, limit);
    const ids = await networkIds(store);
    const now = Date.now();
    const entries = [];
    for (const x of list) {
      const size = truthy(q.size) ? await containerSizes(store, x) : undefined;
      entries.push(
        listEntry(
          x,
          publishedPorts(x),
          networkSettings(x) as { Networks?: Record<string, Record<string, unknown>> },
          DEFAULT_NETWORK,
          {
            health: health.get(x.id),
            networkIds: ids,
            volumeDir: (name) => volumeDataDir(store, name),
            ...(size ? { size } : {}),
          },
          now,
        ),
      );
    }
    return c.json(entries);
  });

  app.post('/containers/create', async (c) => {
    const name = c.req.query('name');
    if (name) {
      try {
        validateContainerName(name.replace(/^\//, ''));
      } catch {
        throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      }
    }
    const body = jsonObject(await c.req.text()) as DockerCreateBody;
    const { options, warnings } = createOptionsFromDocker(body, name?.replace(/^\//, ''));
    // The client pulls on a 404 with this wording, then creates again.
    if (!findImage(await store.images(), options.image)) throw notFound(`No such image: ${imageWithTag(options.image)}`);
    const created = await createContainer(store, options).catch((e: unknown) => {
      // dockerd's words, which clients show as they are.
      if (e instanceof BerthError && e.code === 'CONTAINER_EXISTS') {
        const holder = /in use by ([0-9a-f]{64})/.exec(e.message)?.[1] ?? '';
        throw conflict(
          `Conflict. The container name "/${options.name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      throw e;
    });
    return c.json({ Id: created.id, Warnings: warnings }, 201);
  });

  app.get('/containers/:id/json', async (c) => {
    const id = c.req.param('id');
    const x = await onContainer(id, () => getContainer(store, id));
    const podman = (await inspectContainer(store, x)) as EngineInspect;
    const more = await extras(store, x, await networkIds(store));
    // `size=1` (docker inspect -s): what the writable layer and the whole root hold.
    if (truthy(c.req.query('size'))) more.size = await containerSizes(store, x);
    return c.json(inspectBody(x, podman, DEFAULT_NETWORK, more));
  });

  app.post('/containers/:id/start', async (c) => {
    const id = c.req.param('id');
    const x = await onContainer(id, () => getContainer(store, id));
    if (LIVE.has(x.state.status) && x.state.status !== 'paused') return c.body(null, 304);
    await startOwned(store, x.id).catch((e: unknown) => {
      const { status, message } = errorResponse(e);
      throw new ApiError(status, dockerStartError(message, [...x.config.entrypoint, ...x.config.command][0]));
    });
    return c.body(null, 204);
  });

  app.post('/containers/:id/stop', async (c) => {
    const id = c.req.param('id');
    const x = await onContainer(id, () => getContainer(store, id));
    if (!LIVE.has(x.state.status)) return c.body(null, 304);
    await stopContainer(store, x.id, stopOptions(c.req.query('t'), c.req.query('signal')));
    return c.body(null, 204);
  });

  app.post('/containers/:id/restart', async (c) => {
    const id = c.req.param('id');
    const x = await onContainer(id, () => getContainer(store, id));
    await stopContainer(store, x.id, stopOptions(c.req.query('t'), c.req.query('signal')));
    await startOwned(store, x.id);
    return c.body(null, 204);
  });

  app.post('/containers/:id/kill', async (c) => {
    const id = c.req.param('id');
    const x = await onContainer(id, () => getContainer(store, id));
    const signal = c.req.query('signal') || 'KILL';
    checkSignal(signal);
    if (!LIVE.has(x.state.status)) throw conflict(`Cannot kill container: ${id}: Container ${x.id} is not running`);
    await killContainer(store, x.id, signal);
    return c.body(null, 204);
  });

  app.post('/containers/:id/pause', async (c) => {
    const id = c.req.param('id');
    await onContainer(id, () => pauseContainer(store, id));
    return c.body(null, 204);
  });

  app.post('/containers/:id/unpause', async (c) => {
    const id = c.req.param('id');
    await onContainer(id, () => unpauseContainer(store, id));
    return c.body(null, 204);
  });

  app.post('/containers/:id/wait', async (c) => {
    const id = c.req.param('id');
    const condition = (c.req.query('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
    const x = await onContainer(id, () => getContainer(store, id));
    const abort = new AbortController();
    c.env.outgoing.once('close', () => abort.abort());
    const waited = waitForCondition(store, x.id, condition, abort.signal);
    // The headers go at once, as dockerd sends them: a client knows the wait is in place (and
    // `docker run` starts the container) before the body comes with the exit.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          const code = await waited;
          controller.enqueue(new TextEncoder().encode(`${JSON.stringify({ StatusCode: code, Error: null })}\n`));
        } catch (e) {
          if (!abort.signal.aborted) {
            controller.enqueue(new TextEncoder().encode(`${JSON.stringify({ StatusCode: -1, Error: { Message: (e as Error).message } })}\n`));
          }
        }
        controller.close();
      },
    });
    return c.body(body, 200, { 'Content-Type': 'application/json' });
  });

  app.delete('/containers/:id', async (c) => {
    const id = c.req.param('id');
    const q = c.req.query();
    if (truthy(q.link)) throw badRequest('links are not supported by berth: there is no link to remove');
    const x = await onContainer(id, () => getContainer(store, id));
    if (LIVE.has(x.state.status) && !truthy(q.force)) {
      throw conflict(`You cannot remove a ${x.state.status} container ${x.id}. Stop the container before attempting removal or force remove`);
    }
    await onContainer(id, () => removeContainer(store, x.id, { force: truthy(q.force), volumes: truthy(q.v) }));
    return c.body(null, 204);
  });

  app.post('/containers/:id/rename', async (c) => {
    const id = c.req.param('id');
    const name = c.req.query('name')?.replace(/^\//, '');
    if (!name) throw badRequest('a new name is required (name=)');
    try {
      validateContainerName(name);
    } catch {
      throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    await onContainer(id, () => renameContainer(store, id, name));
    return c.body(null, 204);
  });

  app.get('/containers/:id/top', async (c) => {
    const id = c.req.param('id');
    const x = await onContainer(id, () => getContainer(store, id));
    if (!LIVE.has(x.state.status)) throw conflict(`Container ${x.id} is not running`);
    const { titles, processes } = await containerTop(store, x.id, topDescriptors(c.req.query('ps_args')));
    return c.json({ Titles: titles, Processes: processes });
  });

  app.get('/containers/:id/changes', async (c) => {
    const id = c.req.param('id');
    const changes = await onContainer(id, () => containerChanges(store, id));
    const kind = { C: 0, A: 1, D: 2 } as const;
    return c.json(changes.length ? changes.map((ch) => ({ Path: ch.path, Kind: kind[ch.kind] })) : null);
  });

  app.get('/containers/:id/export', async (c) => {
    const id = c.req.param('id');
    const x = await onContainer(id, () => getContainer(store, id));
    // The root stays mounted while the tar streams; withRootfs unmounts it (if it mounted it) once the stream ends.
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const ready = new Promise<NodeJS.ReadableStream>((resolve, reject) => {
      withRootfs(store, x.id, async (rootfs, c) => {
        const tar = tarDirectory(rootfs, containerTarOptions(c));
        tar.once('close', release);
        tar.once('end', release);
        tar.once('error', release);
        resolve(tar);
        await done;
      }).catch(reject);
    });
    const tar = await ready;
    return c.body(Readable.toWeb(tar as Readable) as ReadableStream<Uint8Array>, 200, { 'Content-Type': 'application/x-tar' });
  });

  app.post('/containers/:id/update', async (c) => {
    const id = c.req.param('id');
    const body = jsonObject(await c.req.text()) as DockerHostConfig;
    const { options, warnings } = updateOptionsFromDocker(body);
    await onContainer(id, () => updateContainer(store, id, options));
    return c.json({ Warnings: warnings });
  });

  app.post('/containers/prune', async (c) => {
    const filters = parseFilters(c.req.query('filters'));
    const keep = containerPruneFilter(filterArgs(filters));
    const { removed, reclaimed } = await pruneContainers(store, keep);
    return c.json({ ContainersDeleted: removed.length ? removed : null, SpaceReclaimed: reclaimed });
  });

  app.post('/containers/:id/resize', async (c) => {
    const id = c.req.param('id');
    const rows = Number(c.req.query('h') ?? 0);
    const columns = Number(c.req.query('w') ?? 0);
    if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 0 || columns < 0) throw badRequest('h and w must be whole numbers');
    const x = await onContainer(id, () => getContainer(store, id));
    if (!LIVE.has(x.state.status)) throw conflict(`Container ${x.id} is not running`);
    await resizeContainerTty(store, x.id, rows, columns);
    return c.body(null, 200);
  });

  return [];
}

/** Docker's ps_args are ps(1)'s options; berth's top takes podman's descriptors. `-ef`, `aux` and the like ask for the usual columns. */
function topDescriptors(psArgs: string | undefined): string[] {
  const words = (psArgs ?? '').split(/[\s,]+/).filter(Boolean);
  if (words.length === 0 || words.every((w) => /^-?[a-zA-Z]+$/.test(w) && !/^(user|pid|ppid|pcpu|etime|tty|time|args|comm)$/.test(w)))
    return DEFAULT_TOP_DESCRIPTORS;
  return words;
}
