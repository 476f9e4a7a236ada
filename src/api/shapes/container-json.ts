// Containers in the Docker Engine API's shapes: an entry of GET /containers/json and the body of
// GET /containers/{id}/json, made from the engine's record and its (podman-shaped) inspect.
import type { ContainerRecord, HealthState, PortMapping } from '../../engine/index.js';
import { humanDuration } from '../../util/human-duration.js';
import { familiarName } from './image-json.js';
import { dockerNetworkName } from './network-json.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** What a conversion needs besides the record: the healthcheck's verdict and the networks' IDs. */
export interface ContainerExtras {
  /** The healthcheck's state, for a container that has one. */
  health?: HealthState | undefined;
  /** berth's network name to its ID (Docker's NetworkID); `host` and `none` to their pseudo-networks' IDs. */
  networkIds?: ReadonlyMap<string, string>;
  /** A named volume's directory on the host (Mounts' Source). */
  volumeDir?: (name: string) => string;
  /** `size=1`: bytes in the writable layer and in the whole root. */
  size?: { rw: number; rootFs: number };
}

/** Docker's State word: berth's `stopping` is a container still running. */
export function dockerState(c: ContainerRecord): string {
  return c.state.status === 'stopping' ? 'running' : c.state.status;
}

/** Docker's Status column: `Up 3 seconds (healthy)`, `Exited (0) 2 seconds ago`, `Created`. */
export function dockerStatus(c: ContainerRecord, health: string | undefined, now = Date.now()): string {
  const up = () => `Up ${humanDuration(now - Date.parse(c.state.startedAt ?? c.created))}`;
  switch (c.state.status) {
    case 'running':
    case 'stopping':
      if (health === 'starting') return `${up()} (health: starting)`;
      return health ? `${up()} (${health})` : up();
    case 'paused':
      return `${up()} (Paused)`;
    case 'removing':
      return 'Removal In Progress';
    case 'exited':
      return `Exited (${c.state.exitCode}) ${humanDuration(now - Date.parse(c.state.finishedAt ?? c.created))} ago`;
    default:
      return 'Created';
  }
}

/** HostConfig.NetworkMode as Docker names it: `bridge` for the default network, a user network by its name. */
export function dockerNetworkMode(c: ContainerRecord, defaultNetwork: string): string {
  const n = c.config.network;
  if (n.mode === 'container') return `container:${n.container}`;
  if (n.mode === 'ns') return `ns:${n.path}`;
  if (n.mode !== 'bridge') return n.mode;
  const first = Object.keys(n.networks ?? {})[0];
  return first === undefined || first === defaultNetwork ? 'bridge' : first;
}

/** The list's Ports: each published port with its host side, and each exposed one without. */
function listPorts(published: PortMapping[], exposed: string[]): object[] {
  const out: object[] = [];
  const seen = new Set<string>();
  for (const m of published) {
    for (let i = 0; i < Math.max(1, m.range); i++) {
      seen.add(`${m.container_port + i}/${m.protocol}`);
      out.push({ IP: m.host_ip || '0.0.0.0', PrivatePort: m.container_port + i, PublicPort: m.host_port + i, Type: m.protocol });
    }
  }
  for (const e of exposed) {
    const [port, proto = 'tcp'] = e.split('/');
    if (!seen.has(`${port}/${proto}`)) out.push({ PrivatePort: Number(port), Type: proto });
  }
  return out;
}

/** Mounts as Docker lists them (tmpfs mounts are HostConfig.Tmpfs, not here). */
export function dockerMounts(c: ContainerRecord, volumeDir: (name: string) => string = () => ''): object[] {
  return (c.config.mountSpecs ?? []).flatMap((m) => {
    if (m.type === 'tmpfs') return [];
    const rw = !m.options.includes('ro');
    const propagation = m.options.find((o) => /^r?(shared|slave|private|unbindable)$/.test(o));
    return m.type === 'volume'
      ? [
          {
            Type: 'volume',
            Name: m.name,
            Source: volumeDir(m.name),
            Destination: m.destination,
            Driver: 'local',
            Mode: m.options.join(','),
            RW: rw,
            Propagation: '',
          },
        ]
      : [{ Type: m.type as string, Source: m.source, Destination: m.destination, Mode: m.options.join(','), RW: rw, Propagation: propagation ?? 'rprivate' }];
  });
}

/**
 * NetworkSettings.Networks' endpoints, from the engine's inspect (podman names a network's ID by
 * its name: Docker's ID here), under Docker's names (the default network is `bridge`); a container
 * on the host's network or none has dockerd's endpoint on that pseudo-network.
 */
function endpoints(
  podmanNetworks: Record<string, Record<string, unknown>> | undefined,
  c: ContainerRecord,
  x: ContainerExtras,
  opts: { aliases: boolean },
): Record<string, object> {
  const mode = c.config.network.mode;
  const joined: Record<string, Record<string, unknown>> = podmanNetworks && Object.keys(podmanNetworks).length
    ? podmanNetworks
    : mode === 'host' || mode === 'none'
      ? { [mode]: {} }
      : {};
  return Object.fromEntries(
    Object.entries(joined).map(([name, e]) => {
      const asked = c.config.network.networks?.[name];
      const ips = asked?.staticIps ?? [];
      const v4 = ips.find((ip) => !ip.includes(':'));
      const v6 = ips.find((ip) => ip.includes(':'));
      return [
        dockerNetworkName(name),
        {
          IPAMConfig: v4 || v6 ? { ...(v4 ? { IPv4Address: v4 } : {}), ...(v6 ? { IPv6Address: v6 } : {}) } : null,
          Links: null,
          // dockerd's list leaves them out; its inspect has them.
          Aliases: opts.aliases ? (e.Aliases ?? null) : null,
          MacAddress: e.MacAddress ?? '',
          DriverOpts: null,
          NetworkID: x.networkIds?.get(name) ?? name,
          EndpointID: e.EndpointID ?? '',
          Gateway: e.Gateway ?? '',
          IPAddress: e.IPAddress ?? '',
          IPPrefixLen: e.IPPrefixLen ?? 0,
          IPv6Gateway: e.IPv6Gateway ?? '',
          GlobalIPv6Address: e.GlobalIPv6Address ?? '',
          GlobalIPv6PrefixLen: e.GlobalIPv6PrefixLen ?? 0,
          DNSNames: null,
        },
      ];
    }),
  );
}

const commandLine = (c: ContainerRecord) => [...c.config.entrypoint, ...c.config.command].join(' ');
const exposedPorts = (c: ContainerRecord, published: PortMapping[]) => [
  ...new Set([...(c.config.network.expose ?? []), ...published.map((m) => `${m.container_port}/${m.protocol}`)]),
];

/** One entry of GET /containers/json. `networkSettings` is the engine's (podman's) NetworkSettings of the container. */
export function listEntry(
  c: ContainerRecord,
  published: PortMapping[],
  networkSettings: { Networks?: Record<string, Record<string, unknown>> },
  defaultNetwork: string,
  x: ContainerExtras = {},
  now = Date.now(),
): object {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: familiarName(c.imageName),
    ImageID: c.image.startsWith('sha256:') ? c.image : `sha256:${c.image}`,
    Command: commandLine(c),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: listPorts(published, c.config.network.expose ?? []),
    ...(x.size ? { SizeRw: x.size.rw, SizeRootFs: x.size.rootFs } : {}),
    Labels: c.config.labels,
    State: dockerState(c),
    Status: dockerStatus(c, x.health?.Status, now),
    HostConfig: { NetworkMode: dockerNetworkMode(c, defaultNetwork) },
    NetworkSettings: { Networks: endpoints(networkSettings.Networks, c, x, { aliases: false }) },
    Mounts: dockerMounts(c, x.volumeDir),
  };
}

/** `nofile=1024:2048` as Docker's `{Name, Soft, Hard}`. */
function ulimit(spec: string): object {
  const [name = '', values = ''] = spec.split('=');
  const [soft = '0', hard = soft] = values.split(':');
  const n = (v: string) => (v === 'unlimited' || v === '-1' ? -1 : Number(v));
  return { Name: name, Soft: n(soft), Hard: n(hard) };
}

type PortBinding = { HostIp: string; HostPort: string };

/** A `{"80/tcp": [{HostIp, HostPort}] | null}` map with each binding rewritten. */
function portMap(ports: Record<string, PortBinding[] | null> | undefined, fn: (b: PortBinding) => PortBinding): Record<string, PortBinding[] | null> {
  return Object.fromEntries(Object.entries(ports ?? {}).map(([k, v]) => [k, v ? v.map(fn) : null]));
}

const orNull = <T>(list: T[] | undefined): T[] | null => (list?.length ? list : null);

/** What inspectBody reads of the engine's inspect (podman's shape). */
export interface EngineInspect {
  Path?: string;
  Args?: string[];
  ResolvConfPath?: string;
  HostnamePath?: string;
  HostsPath?: string;
  GraphDriver?: { Data?: Record<string, string> };
  HostConfig?: {
    PortBindings?: Record<string, PortBinding[] | null>;
    CgroupnsMode?: string;
    IpcMode?: string;
    OomScoreAdj?: number;
    PidMode?: string;
    UTSMode?: string;
    Tmpfs?: Record<string, string>;
    ShmSize?: number;
    Sysctls?: Record<string, string> | null;
    CpuShares?: number;
    BlkioWeight?: number;
    CpuPeriod?: number;
    CpuQuota?: number;
    CpusetCpus?: string;
    CpusetMems?: string;
    Devices?: object[];
    MemoryReservation?: number;
    MemorySwap?: number;
    MemorySwappiness?: number;
    OomKillDisable?: boolean;
  };
  NetworkSettings?: {
    SandboxKey?: string;
    Ports?: Record<string, PortBinding[] | null>;
    EndpointID?: string;
    Gateway?: string;
    GlobalIPv6Address?: string;
    GlobalIPv6PrefixLen?: number;
    IPAddress?: string;
    IPPrefixLen?: number;
    IPv6Gateway?: string;
    MacAddress?: string;
    Networks?: Record<string, Record<string, unknown>>;
  };
}

/** GET /containers/{id}/json, from the record and the engine's inspect (podman's shape). */
export function inspectBody(c: ContainerRecord, podman: EngineInspect, defaultNetwork: string, x: ContainerExtras = {}): object {
  const hc = podman.HostConfig ?? {};
  const settings = podman.NetworkSettings ?? {};
  const published: PortMapping[] = c.state.network?.ports ?? c.config.network.publish ?? [];
  const running = c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'stopping';
  const names = c.config.nameResolution;
  const healthcheck = c.config.healthcheck;
  const exposed = exposedPorts(c, published);
  const anonymous = (c.config.mountSpecs ?? []).filter((m) => m.type === 'volume' && m.anonymous).map((m) => m.destination);
  return {
    Id: c.id,
    Created: c.created,
    Path: podman.Path,
    Args: podman.Args,
    State: {
      Status: dockerState(c),
      Running: running && c.state.status !== 'paused',
      Paused: c.state.status === 'paused',
      Restarting: false,
      OOMKilled: c.state.oomKilled,
      Dead: false,
      Pid: running ? c.state.pid : 0,
      ExitCode: c.state.exitCode,
      Error: c.state.error ?? '',
      StartedAt: c.state.startedAt ?? ZERO_TIME,
      FinishedAt: c.state.finishedAt ?? ZERO_TIME,
      ...(x.health ? { Health: { Status: x.health.Status, FailingStreak: x.health.FailingStreak, Log: x.health.Log ?? [] } } : {}),
    },
    Image: c.image.startsWith('sha256:') ? c.image : `sha256:${c.image}`,
    ResolvConfPath: podman.ResolvConfPath,
    HostnamePath: podman.HostnamePath,
    HostsPath: podman.HostsPath,
    LogPath: '',
    Name: `/${c.name}`,
    RestartCount: c.state.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: orNull(c.config.volumes),
      ContainerIDFile: '',
      // compose reads logs only from the drivers it knows to keep them (berth's k8s-file keeps them; none, not).
      LogConfig: { Type: c.config.logDriver ?? 'json-file', Config: {} },
      NetworkMode: dockerNetworkMode(c, defaultNetwork),
      // A random host port is asked for as an empty one.
      PortBindings: portMap(hc.PortBindings, (b) => ({ HostIp: b.HostIp, HostPort: b.HostPort === '0' ? '' : b.HostPort })),
      RestartPolicy: { Name: c.config.restartPolicy.name, MaximumRetryCount: c.config.restartPolicy.maxRetries },
      AutoRemove: c.config.autoRemove,
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      CapAdd: orNull(c.config.capAdd),
      CapDrop: orNull(c.config.capDrop),
      CgroupnsMode: hc.CgroupnsMode,
      // dockerd's null for a list never given (as its inspect shows them).
      Dns: orNull(names?.servers),
      DnsOptions: orNull(names?.options),
      DnsSearch: orNull(names?.search),
      ExtraHosts: orNull(names?.extraHosts.map((h) => `${h.host}:${h.ip}`)),
      GroupAdd: orNull(c.config.groupAdd),
      IpcMode: hc.IpcMode,
      Cgroup: '',
      Links: null,
      OomScoreAdj: hc.OomScoreAdj ?? 0,
      PidMode: hc.PidMode === 'host' ? 'host' : '',
      Privileged: c.config.privileged,
      PublishAllPorts: c.config.network.publishAll === true,
      ReadonlyRootfs: c.config.readOnly,
      SecurityOpt: orNull(c.config.securityOpt),
      // As given (`--tmpfs PATH[:OPTIONS]`), not with the defaults the engine puts before the options.
      Tmpfs: c.config.tmpfs.length
        ? Object.fromEntries(c.config.tmpfs.map((t) => [t.split(':')[0]!, t.includes(':') ? t.slice(t.indexOf(':') + 1) : '']))
        : null,
      UTSMode: hc.UTSMode === 'host' ? 'host' : '',
      UsernsMode: '',
      ShmSize: hc.ShmSize,
      Sysctls: hc.Sysctls ?? null,
      Runtime: c.config.runtime,
      Isolation: '',
      CpuShares: hc.CpuShares ?? 0,
      Memory: c.config.memory ?? 0,
      NanoCpus: Math.round((c.config.cpus ?? 0) * 1e9),
      CgroupParent: '',
      BlkioWeight: hc.BlkioWeight ?? 0,
      BlkioWeightDevice: null,
      BlkioDeviceReadBps: null,
      BlkioDeviceWriteBps: null,
      BlkioDeviceReadIOps: null,
      BlkioDeviceWriteIOps: null,
      CpuPeriod: hc.CpuPeriod ?? 0,
      CpuQuota: hc.CpuQuota ?? 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: hc.CpusetCpus ?? '',
      CpusetMems: hc.CpusetMems ?? '',
      Devices: orNull(hc.Devices),
      DeviceCgroupRules: null,
      DeviceRequests: null,
      MemoryReservation: hc.MemoryReservation ?? 0,
      MemorySwap: hc.MemorySwap ?? 0,
      MemorySwappiness: hc.MemorySwappiness === -1 ? null : hc.MemorySwappiness,
      OomKillDisable: hc.OomKillDisable ?? false,
      PidsLimit: c.config.pidsLimit ? c.config.pidsLimit : null,
      Ulimits: orNull(c.config.ulimits.map(ulimit)),
      Init: c.config.init ? true : null,
      MaskedPaths: null,
      ReadonlyPaths: null,
    },
    GraphDriver: { Name: 'overlay2', Data: podman.GraphDriver?.Data ?? {} },
    Mounts: dockerMounts(c, x.volumeDir),
    ...(x.size ? { SizeRw: x.size.rw, SizeRootFs: x.size.rootFs } : {}),
    Config: {
      Hostname: c.config.hostname,
      Domainname: c.config.domainname ?? '',
      User: c.config.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ...(exposed.length ? { ExposedPorts: Object.fromEntries(exposed.map((p) => [p, {}])) } : {}),
      Tty: c.config.tty,
      OpenStdin: c.config.stdin,
      StdinOnce: false,
      Env: c.config.env,
      Cmd: c.config.command.length ? c.config.command : null,
      ...(healthcheck
        ? {
            Healthcheck: {
              Test: healthcheck.Test,
              Interval: healthcheck.Interval,
              Timeout: healthcheck.Timeout,
              StartPeriod: healthcheck.StartPeriod,
              Retries: healthcheck.Retries,
            },
          }
        : {}),
      Image: familiarName(c.imageName),
      Volumes: anonymous.length ? Object.fromEntries(anonymous.map((d) => [d, {}])) : null,
      WorkingDir: c.config.workdir,
      Entrypoint: c.config.entrypoint.length ? c.config.entrypoint : null,
      OnBuild: null,
      Labels: c.config.labels,
      StopSignal: c.config.stopSignal,
      StopTimeout: c.config.stopTimeout,
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: settings.SandboxKey ?? '',
      // Every address of the host is 0.0.0.0 to Docker's clients (podman leaves it empty).
      Ports: portMap(settings.Ports, (b) => ({ HostIp: b.HostIp || '0.0.0.0', HostPort: b.HostPort })),
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: settings.EndpointID ?? '',
      Gateway: settings.Gateway ?? '',
      GlobalIPv6Address: settings.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: settings.GlobalIPv6PrefixLen ?? 0,
      IPAddress: settings.IPAddress ?? '',
      IPPrefixLen: settings.IPPrefixLen ?? 0,
      IPv6Gateway: settings.IPv6Gateway ?? '',
      MacAddress: settings.MacAddress ?? '',
      Networks: endpoints(settings.Networks, c, x, { aliases: true }),
    },
  };
}
