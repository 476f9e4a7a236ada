// POST /build: the classic (pre-BuildKit) builder's API. The body is the context as a tar; the
// engine unpacks it into temp space, builds, and removes it; the steps stream back as Docker's
// JSON lines. A BuildKit session (version=2) is refused: clients fall back with DOCKER_BUILDKIT=0.
// rm and forcerm are what berth does anyway (a RUN's container always goes); cachefrom is a hint
// berth's cache has no use for; RUN resource limits and shm size are refused when set, since berth's
// build has none to apply (the docker CLI sends them as 0 unless asked).
import { buildFromArchive, imageEvent, parseNormalizedNamed, pruneBuildCache, type PullPolicy } from '../../engine/index.js';
import { isBerthError } from '../../util/errors.js';
import type { ApiApp, ApiContext } from '../context.js';
import { badRequest } from '../errors.js';
import { parseFilters } from '../filters.js';
import { decodeRegistryConfig, registryOptionsFor } from '../registry-auth.js';
import { buildStream } from '../shapes/build-stream.js';
import { jsonStream } from '../streams/json-stream.js';
import { queryFlag } from './images.js';

/** Resource parameters of a build's RUN steps that berth's builder cannot apply. */
const UNAPPLIED_LIMITS = ['memory', 'memswap', 'cpushares', 'cpusetcpus', 'cpusetmems', 'cpuperiod', 'cpuquota', 'shmsize'] as const;

/** A JSON object parameter (buildargs, labels): string values; a null build arg means "take the default". */
function jsonMap(name: string, raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid ${name}: not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest(`invalid ${name}: not a JSON object`);
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === 'string') out.set(k, v);
    else if (v !== null) throw badRequest(`invalid ${name}: the value of ${k} is not a string`);
  }
  return out;
}

/** RUN's network from `networkmode`: Docker's default (and "bridge") is berth's default network. */
function networkOf(mode: string | undefined): string | undefined {
  return mode === undefined || mode === '' || mode === 'default' || mode === 'bridge' ? undefined : mode;
}

/** A failed RUN's exit status, which dockerd's errorDetail carries and `docker build` exits with. */
const runStatus = (e: unknown) => (isBerthError(e, 'BUILD_FAILED') && e.exitCode > 0 && e.exitCode < 125 ? e.exitCode : undefined);

export function buildRoutes(app: ApiApp, ctx: ApiContext): undefined {
  const { store } = ctx;
  // docker builder prune, and docker system prune, which calls it: berth's build cache is its intermediate images and step records.
  app.post('/build/prune', async (c) => {
    const q = c.req.query();
    for (const key of Object.keys(parseFilters(q.filters))) throw badRequest(`invalid filter '${key}': berth's build cache takes none`);
    const { deleted, reclaimed } = await pruneBuildCache(store, { all: queryFlag(q.all) });
    return c.json({ CachesDeleted: deleted, SpaceReclaimed: reclaimed });
  });

  app.post('/build', async (c) => {
    const q = c.req.query();
    if (q.version === '2') {
      throw badRequest('berth has no BuildKit: the classic builder only (version=1; set DOCKER_BUILDKIT=0 for the docker CLI)');
    }
    if (q.remote) throw badRequest('berth builds from an uploaded context only (remote= is not supported)');
    for (const key of UNAPPLIED_LIMITS) {
      const v = q[key];
      if (v !== undefined && v !== '' && v !== '0' && !(key === 'memswap' && v === '-1'))
        throw badRequest(`${key}=${v}: berth's build runs its steps without resource limits`);
    }
    const tags = c.req.queries('t') ?? [];
    const buildArgs = jsonMap('buildargs', q.buildargs);
    const labels = [...jsonMap('labels', q.labels)].map(([k, v]) => `${k}=${v}`);
    const quiet = queryFlag(q.q);
    const pull: PullPolicy = queryFlag(q.pull) ? 'always' : 'missing';
    const network = networkOf(q.networkmode);
    // FROM's pulls: the client's credentials for that registry, and 127.0.0.0/8 insecure as for a pull.
    const registryConfig = decodeRegistryConfig(c.req.header('x-registry-config'));
    const pullOptionsFor = (name: string) => {
      let domain: string;
      try {
        domain = parseNormalizedNamed(name).domain;
      } catch {
        return undefined;
      }
      return registryOptionsFor(domain, registryConfig.get(domain));
    };
    // `extrahosts`: HOST:IP entries, repeated (the Go client) or comma-separated; Docker's HOST=IP too.
    const addHosts = (c.req.queries('extrahosts') ?? [])
      .flatMap((v) => v.split(','))
      .filter((v) => v !== '')
      .map((v) => (v.includes('=') && !v.includes(':') ? v.replace('=', ':') : v));
    // The client going away stops the build: the RUN in progress is killed, nothing more starts.
    const abort = new AbortController();
    c.env.outgoing.once('close', () => {
      if (!c.env.outgoing.writableFinished) abort.abort(new Error('the client went away'));
    });
    return jsonStream(
      c,
      async (emit) => {
        const progress = buildStream(emit, quiet);
        const record = await buildFromArchive(store, c.env.incoming, {
          ...(q.dockerfile ? { file: q.dockerfile } : {}),
          tags,
          buildArgs,
          labels,
          pull,
          ...(q.target ? { target: q.target } : {}),
          noCache: queryFlag(q.nocache),
          ...(queryFlag(q.squash) ? { squash: true } : {}),
          ...(q.platform ? { platform: q.platform } : {}),
          ...(network !== undefined ? { network } : {}),
          ...(addHosts.length ? { addHosts } : {}),
          pullOptionsFor,
          // Docker's image format: HEALTHCHECK, ONBUILD and SHELL survive only in it.
          format: 'docker',
          signal: abort.signal,
          out: progress.out,
          onStep: progress.onStep,
        }).catch((e: unknown) => {
          progress.failed();
          throw e;
        });
        await imageEvent(store, 'build', record.id, record.names[0]);
        progress.finish(record.id, tags);
      },
      runStatus,
    );
  });
}
