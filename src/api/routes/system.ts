// /_ping, /version, /info and /events: what a client asks first (to negotiate the version and
// learn the engine) and the event stream compose and the CLI follow.
import { release } from 'node:os';
import { eventNanos, goArch, parseEventFilters, parseEventTime, readEvents, systemInfo, type BerthEvent } from '../../engine/index.js';
import { API_VERSION, VERSION } from '../../util/version.js';
import type { ApiApp, ApiContext } from '../context.js';
import { badRequest } from '../errors.js';
import { parseFilters } from '../filters.js';
import { MAX_API_VERSION, MIN_API_VERSION } from '../version.js';
import { dockerEvent, podmanEventName } from '../shapes/docker-events.js';

export function systemRoutes(app: ApiApp, ctx: ApiContext): undefined {
  const ping = (c: { header(k: string, v: string): void; text(t: string): Response }) => {
    c.header('Builder-Version', '1');
    c.header('Cache-Control', 'no-cache, no-store, must-revalidate');
    c.header('Pragma', 'no-cache');
    return c.text('OK');
  };
  app.get('/_ping', (c) => ping(c));
  app.on('HEAD', '/_ping', (c) => ping(c));

  app.get('/version', (c) => c.json(versionBody()));

  app.get('/info', async (c) => c.json(await infoBody(ctx)));

  app.get('/events', async (c) => {
    const q = c.req.query();
    const now = BigInt(Date.now()) * 1_000_000n;
    const since = q.since ? parseEventTime(q.since, true, now) : undefined;
    const until = q.until ? parseEventTime(q.until, false, now) : undefined;
    const filters = parseFilters(q.filters);
    // Docker's event names in a filter are podman's in the log (die is died, destroy is remove).
    const filterArgs = Object.entries(filters).flatMap(([key, values]) => values.map((v) => `${key}=${key === 'event' ? podmanEventName(v) : v}`));
    let predicate: ReturnType<typeof parseEventFilters>;
    try {
      predicate = parseEventFilters(filterArgs);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    const abort = new AbortController();
    c.env.outgoing.once('close', () => abort.abort());
    const events = readEvents(ctx.store, {
      filter: predicate,
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      // Docker streams until the client goes unless `until` ends it.
      stream: true,
      signal: abort.signal,
    });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          const next = await events.next().catch((e: unknown) => (abort.signal.aborted ? { done: true as const, value: undefined } : Promise.reject(e)));
          if (next.done) return controller.close();
          const e = dockerEvent(next.value as BerthEvent, eventNanos(next.value as BerthEvent));
          if (e) return controller.enqueue(encoder.encode(`${JSON.stringify(e)}\n`));
        }
      },
      cancel() {
        abort.abort();
      },
    });
    return c.body(body, 200, { 'Content-Type': 'application/json' });
  });
}

function versionBody() {
  const details = { ApiVersion: MAX_API_VERSION, Arch: goArch(), KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux' };
  return {
    Platform: { Name: 'berth' },
    Components: [{ Name: 'Engine', Version: VERSION, Details: { ...details, BerthAPIVersion: API_VERSION, NodeVersion: process.version } }],
    Version: VERSION,
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: release(),
    BuildTime: '',
    Experimental: false,
  };
}

/** Docker's /info from what `berth info` knows (podman's structure), with Docker's names and units. */
async function infoBody(ctx: ApiContext) {
  const info = await systemInfo(ctx.store, { Version: VERSION, APIVersion: API_VERSION });
  const host = info.host as {
    cgroupManager: string;
    cgroupVersion: string;
    kernel: string;
    cpus: number;
    memTotal: number;
    hostname: string;
    ociRuntime?: { name: string; path: string };
    distribution?: { distribution?: string; version?: string };
    security: { seccompEnabled: boolean; rootless: boolean };
  };
  const store = info.store as { containerStore: unknown; imageStore: unknown; graphRoot: string };
  const counts = store.containerStore as { number: number; paused: number; running: number; stopped: number };
  const runtime = host.ociRuntime;
  const distribution = host.distribution;
  const security = host.security;
  return {
    ID: '',
    Containers: counts.number,
    ContainersRunning: counts.running,
    ContainersPaused: counts.paused,
    ContainersStopped: counts.stopped,
    Images: (store.imageStore as { number: number }).number,
    Driver: 'overlay',
    DriverStatus: [['Backing Filesystem', 'extfs']],
    DockerRootDir: store.graphRoot,
    Plugins: { Volume: ['local'], Network: ['bridge', 'macvlan', 'ipvlan'], Authorization: null, Log: ['k8s-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    BridgeNfIptables: true,
    BridgeNfIp6tables: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'k8s-file',
    CgroupDriver: host.cgroupManager,
    CgroupVersion: String(host.cgroupVersion).replace(/^v/, ''),
    NEventsListener: 0,
    KernelVersion: host.kernel,
    OperatingSystem: distribution?.distribution ? `${distribution.distribution} ${distribution.version ?? ''}`.trim() : 'linux',
    OSVersion: distribution?.version ?? '',
    OSType: 'linux',
    Architecture: process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : goArch(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: [], Mirrors: [] },
    NCPU: host.cpus,
    MemTotal: host.memTotal,
    GenericResources: null,
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    Name: host.hostname,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: VERSION,
    Runtimes: runtime ? { [runtime.name]: { path: runtime.path } } : {},
    DefaultRuntime: runtime?.name ?? '',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: false,
    Isolation: '',
    InitBinary: 'catatonit',
    SecurityOptions: [...(security.seccompEnabled ? ['name=seccomp,profile=default'] : []), ...(security.rootless ? ['name=rootless'] : [])],
    Warnings: [],
  };
}
