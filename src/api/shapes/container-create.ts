// The body of Docker's POST /containers/create (Config, HostConfig, NetworkingConfig) as the
// engine's CreateOptions: each field in the words `berth create` takes for it (a bind as `-v`'s
// string, a port binding as `-p`'s), so the engine's own parsers check every value. What berth
// cannot honour is a 400 naming the field where ignoring it would change how the container
// behaves, and one of Docker's warnings where it would not.
import type { CreateOptions, HealthFlags, TuningFlags, UpdateOptions, UpdateTuningFlags } from '../../engine/index.js';
import { badRequest } from '../errors.js';

/** The parts of Docker's container config a create carries (every field optional, as clients omit or zero them). */
export interface DockerCreateBody {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  Image?: string;
  Labels?: Record<string, string> | null;
  WorkingDir?: string;
  ExposedPorts?: Record<string, unknown> | null;
  Volumes?: Record<string, unknown> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  HostConfig?: DockerHostConfig | null;
  NetworkingConfig?: { EndpointsConfig?: Record<string, DockerEndpoint | null> | null } | null;
  [other: string]: unknown;
}

export interface DockerEndpoint {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  MacAddress?: string;
  Links?: string[] | null;
  [other: string]: unknown;
}

interface DockerMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

export interface DockerHostConfig {
  Binds?: string[] | null;
  Mounts?: DockerMount[] | null;
  Tmpfs?: Record<string, string> | null;
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  PublishAllPorts?: boolean;
  NetworkMode?: string;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  AutoRemove?: boolean;
  Memory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  OomKillDisable?: boolean | null;
  OomScoreAdj?: number;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Privileged?: boolean;
  SecurityOpt?: string[] | null;
  Ulimits?: { Name?: string; Soft?: number; Hard?: number }[] | null;
  Devices?: { PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }[] | null;
  DeviceCgroupRules?: string[] | null;
  Init?: boolean | null;
  LogConfig?: { Type?: string; Config?: Record<string, string> | null } | null;
  ExtraHosts?: string[] | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  GroupAdd?: string[] | null;
  ReadonlyRootfs?: boolean;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  CgroupnsMode?: string;
  Runtime?: string;
  Annotations?: Record<string, string> | null;
  [other: string]: unknown;
}

/** A value a client sends when it means "not set": Docker's zero values. */
export function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isZero);
  return false;
}

/** Fields berth cannot honour: ignoring a set one would change what the container does, so it is refused. */
const REFUSED_HOST_FIELDS = [
  'CgroupParent',
  'Cgroup',
  'StorageOpt',
  'DeviceRequests',
  'MaskedPaths',
  'ReadonlyPaths',
  'CpuRealtimePeriod',
  'CpuRealtimeRuntime',
  'Links',
  'BlkioWeightDevice',
  'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps',
  'BlkioDeviceWriteIOps',
] as const;

/** Fields of other platforms or long gone from Docker: a set one is a warning, as dockerd's own for them. */
const WARNED_HOST_FIELDS = ['KernelMemory', 'KernelMemoryTCP', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth'] as const;

/** Log drivers whose absence changes nothing a client sees: berth keeps every container's log (k8s-file), which the logs route reads. */
const LOG_DRIVERS = new Set(['', 'json-file', 'k8s-file', 'local', 'journald', 'none']);

const strings = (v: string[] | null | undefined): string[] => v ?? [];
const keyValues = (v: Record<string, string> | null | undefined): string[] => Object.entries(v ?? {}).map(([k, x]) => `${k}=${x}`);

/** A Docker duration in nanoseconds as a `--health-*` value; 0 (unset) leaves the image's. */
const nanos = (n: number | undefined): string | undefined => (n ? `${n}ns` : undefined);

function healthFlags(hc: DockerCreateBody['Healthcheck'], warnings: string[]): HealthFlags {
  if (!hc) return {};
  if (hc.StartInterval) warnings.push('Healthcheck.StartInterval is not supported by berth and was ignored');
  const test = hc.Test ?? [];
  if (test[0] === 'NONE') return { noHealthcheck: true };
  const flags: HealthFlags = {};
  // Docker's empty Test inherits the image's command (the timings may still change).
  if (test.length > 0) flags.healthCmd = JSON.stringify(test);
  const set = (key: keyof HealthFlags, v: string | undefined) => {
    if (v !== undefined) (flags as Record<string, string>)[key] = v;
  };
  set('healthInterval', nanos(hc.Interval));
  set('healthTimeout', nanos(hc.Timeout));
  set('healthStartPeriod', nanos(hc.StartPeriod));
  set('healthRetries', hc.Retries ? String(hc.Retries) : undefined);
  return flags;
}

/** `-p`'s words for one container port's bindings: a host port, or none for a random one. */
function publishWords(port: string, bindings: { HostIp?: string; HostPort?: string }[] | null): string[] {
  const spec = port.includes('/') ? port : `${port}/tcp`;
  return (bindings ?? []).map((b) => {
    const ip = b.HostIp ?? '';
    // Port 0, as testcontainers asks, is a random one: what an empty host port means to `-p`.
    const host = b.HostPort === '0' ? '' : (b.HostPort ?? '');
    if (ip === '') return host === '' ? spec : `${host}:${spec}`;
    return `${ip.includes(':') ? `[${ip}]` : ip}:${host}:${spec}`;
  });
}

/** The `--mount` string of one HostConfig.Mounts entry. */
function mountWord(m: DockerMount): string {
  const type = m.Type ?? 'volume';
  if (!['bind', 'volume', 'tmpfs'].includes(type)) throw badRequest(`HostConfig.Mounts: mount type "${type}" is not supported by berth`);
  if (m.VolumeOptions?.DriverConfig?.Name && m.VolumeOptions.DriverConfig.Name !== 'local')
    throw badRequest(`HostConfig.Mounts: volume driver "${m.VolumeOptions.DriverConfig.Name}" is not supported by berth`);
  if (m.VolumeOptions?.Subpath) throw badRequest('HostConfig.Mounts: VolumeOptions.Subpath is not supported by berth');
  if (m.BindOptions?.CreateMountpoint) throw badRequest('HostConfig.Mounts: BindOptions.CreateMountpoint is not supported by berth');
  const parts = [`type=${type}`];
  if (m.Source) parts.push(`source=${m.Source}`);
  parts.push(`target=${m.Target ?? ''}`);
  if (m.ReadOnly) parts.push('readonly');
  if (m.BindOptions?.Propagation) parts.push(`bind-propagation=${m.BindOptions.Propagation}`);
  if (m.BindOptions?.NonRecursive) parts.push('bind-nonrecursive');
  if (m.VolumeOptions?.NoCopy) parts.push('volume-nocopy');
  if (m.TmpfsOptions?.SizeBytes) parts.push(`tmpfs-size=${m.TmpfsOptions.SizeBytes}`);
  if (m.TmpfsOptions?.Mode) parts.push(`tmpfs-mode=${m.TmpfsOptions.Mode.toString(8)}`);
  // A comma inside a value would split it into options of its own.
  if ([m.Source, m.Target].some((v) => v?.includes(',')))
    throw badRequest(`HostConfig.Mounts: a path with a comma is not supported: ${m.Source ?? ''} ${m.Target ?? ''}`);
  return parts.join(',');
}

/** Docker's names of the default network, which is berth's (podman's) default one. */
const DEFAULT_NAMES = new Set(['', 'default', 'bridge']);

/** `--network`'s words: the mode, or each network with podman 4's `NAME:alias=…,ip=…,mac=…` options. */
function networkWords(body: DockerCreateBody): string[] {
  const host = body.HostConfig ?? {};
  const mode = body.NetworkDisabled ? 'none' : (host.NetworkMode ?? '');
  if (mode === 'none' || mode === 'host' || mode.startsWith('container:')) return [mode];
  const endpoints = Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {});
  const first = DEFAULT_NAMES.has(mode) ? 'bridge' : mode;
  // The mode's network first (its interface is eth0), then any others the client named (API 1.44+).
  const ordered = [
    ...endpoints.filter(([name]) => (DEFAULT_NAMES.has(name) ? 'bridge' : name) === first),
    ...endpoints.filter(([name]) => (DEFAULT_NAMES.has(name) ? 'bridge' : name) !== first),
  ];
  if (!ordered.some(([name]) => (DEFAULT_NAMES.has(name) ? 'bridge' : name) === first)) ordered.unshift([first, {}]);
  return ordered.map(([name, e], i) => {
    const options = [
      ...strings(e?.Aliases).map((a) => `alias=${a}`),
      ...(e?.IPAMConfig?.IPv4Address ? [`ip=${e.IPAMConfig.IPv4Address}`] : []),
      ...(e?.IPAMConfig?.IPv6Address ? [`ip6=${e.IPAMConfig.IPv6Address}`] : []),
      ...(e?.MacAddress ? [`mac=${e.MacAddress}`] : i === 0 && body.MacAddress ? [`mac=${body.MacAddress}`] : []),
    ];
    if (options.some((o) => o.includes(','))) throw badRequest(`NetworkingConfig.EndpointsConfig.${name}: a value with a comma is not supported`);
    const word = DEFAULT_NAMES.has(name) ? 'bridge' : name;
    return options.length ? `${word}:${options.join(',')}` : word;
  });
}

/** Where a bind (`SRC:DST[:OPTS]` or `DST`) mounts. */
const bindTarget = (bind: string) => normalTarget(bind.split(':')[bind.includes(':') ? 1 : 0] ?? '');
const normalTarget = (path: string) => path.replace(/\/+$/, '') || '/';

/**
 * Config.Volumes as anonymous volumes (what `-v /path` makes), less the paths a bind, mount or
 * tmpfs covers: docker-py (docker-compose 1.x) lists every mount's target there, binds included.
 */
function anonymousVolumes(body: DockerCreateBody, h: DockerHostConfig): string[] {
  const covered = new Set([
    ...strings(h.Binds).map(bindTarget),
    ...(h.Mounts ?? []).map((m) => normalTarget(m.Target ?? '')),
    ...Object.keys(h.Tmpfs ?? {}).map(normalTarget),
  ]);
  return Object.keys(body.Volumes ?? {}).filter((path) => !covered.has(normalTarget(path)));
}

function restartWord(p: DockerHostConfig['RestartPolicy']): string | undefined {
  const name = p?.Name ?? '';
  if (name === '' || name === 'no') return undefined;
  return name === 'on-failure' && p?.MaximumRetryCount ? `on-failure:${p.MaximumRetryCount}` : name;
}

/** The namespace modes Docker sends for "the container's own", which berth's flags call private. */
function namespaceWord(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** The cgroup limits a create sets and an update changes, in the words of their flags (0 or absent: not given). */
function cgroupTuning(h: DockerHostConfig): UpdateTuningFlags {
  const t: UpdateTuningFlags = {};
  const num = (key: Exclude<keyof UpdateTuningFlags, 'cpusetCpus' | 'cpusetMems'>, v: number | null | undefined) => {
    if (v) t[key] = String(v);
  };
  num('cpuShares', h.CpuShares);
  num('cpuPeriod', h.CpuPeriod);
  num('cpuQuota', h.CpuQuota);
  num('memoryReservation', h.MemoryReservation);
  num('memorySwap', h.MemorySwap);
  num('blkioWeight', h.BlkioWeight);
  if (h.CpusetCpus) t.cpusetCpus = h.CpusetCpus;
  if (h.CpusetMems) t.cpusetMems = h.CpusetMems;
  return t;
}

function tuningFlags(h: DockerHostConfig): TuningFlags {
  const t: TuningFlags = cgroupTuning(h);
  if (h.OomScoreAdj) t.oomScoreAdj = String(h.OomScoreAdj);
  if (h.ShmSize) t.shmSize = String(h.ShmSize);
  // -1 (and null) is "the kernel's default".
  if (h.MemorySwappiness !== undefined && h.MemorySwappiness !== null && h.MemorySwappiness >= 0) t.memorySwappiness = String(h.MemorySwappiness);
  if (h.OomKillDisable) t.oomKillDisable = true;
  const sysctls = keyValues(h.Sysctls);
  if (sysctls.length) t.sysctl = sysctls;
  if (h.DeviceCgroupRules?.length) t.deviceCgroupRule = h.DeviceCgroupRules;
  const pid = namespaceWord(h.PidMode);
  const ipc = namespaceWord(h.IpcMode);
  const uts = namespaceWord(h.UTSMode);
  const cgroupns = namespaceWord(h.CgroupnsMode);
  if (pid) t.pid = pid;
  if (ipc) t.ipc = ipc;
  if (uts) t.uts = uts;
  if (cgroupns) t.cgroupns = cgroupns;
  return t;
}

/** The image a create names, with Docker's `:latest` when it names no tag or digest (for its 404 message). */
export function imageWithTag(image: string): string {
  const last = image.slice(image.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@') ? image : `${image}:latest`;
}

/**
 * The engine's CreateOptions for a create request, and Docker's warnings for what was ignored.
 * Throws a 400 (ApiError) for a field berth cannot honour; the values themselves are checked by
 * the engine's parsers when the options are used.
 */
export function createOptionsFromDocker(body: DockerCreateBody, name: string | undefined): { options: CreateOptions; warnings: string[] } {
  const warnings: string[] = [];
  if (!body.Image) throw badRequest('Config.Image: an image is required');
  const h: DockerHostConfig = body.HostConfig ?? {};
  for (const field of REFUSED_HOST_FIELDS) if (!isZero(h[field])) throw badRequest(`HostConfig.${field} is not supported by berth`);
  for (const field of WARNED_HOST_FIELDS) if (!isZero(h[field])) warnings.push(`HostConfig.${field} is not supported by berth and was ignored`);
  if (h.UsernsMode && h.UsernsMode !== 'host') throw badRequest(`HostConfig.UsernsMode "${h.UsernsMode}" is not supported by berth`);
  if (h.VolumeDriver && h.VolumeDriver !== 'local') throw badRequest(`HostConfig.VolumeDriver "${h.VolumeDriver}" is not supported by berth`);
  if (h.Isolation && h.Isolation !== 'default') throw badRequest(`HostConfig.Isolation "${h.Isolation}" is not supported on linux`);
  const logType = h.LogConfig?.Type ?? '';
  if (!LOG_DRIVERS.has(logType)) warnings.push(`log driver "${logType}" is not supported by berth: the container's output is kept in its own log (k8s-file)`);
  else if (!isZero(h.LogConfig?.Config))
    warnings.push(`log options ${Object.keys(h.LogConfig?.Config ?? {}).join(', ')} are not supported by berth and were ignored`);
  // The service's working directory means nothing to a client: a relative source would land there.
  for (const bind of strings(h.Binds))
    if (bind.startsWith('.')) throw badRequest(`HostConfig.Binds: invalid mount config: the source of "${bind}" must be an absolute path`);
  for (const m of h.Mounts ?? [])
    if ((m.Type ?? 'volume') === 'bind' && !m.Source?.startsWith('/'))
      throw badRequest(`HostConfig.Mounts: invalid mount config for type "bind": the source "${m.Source ?? ''}" must be an absolute path`);
  const entrypoint = body.Entrypoint;
  const cmd = body.Cmd;
  const ulimits = (h.Ulimits ?? []).map((u) => `${u.Name ?? ''}=${u.Soft ?? 0}:${u.Hard ?? u.Soft ?? 0}`);
  const devices = (h.Devices ?? []).map((d) => [d.PathOnHost ?? '', d.PathInContainer || d.PathOnHost || '', d.CgroupPermissions || 'rwm'].join(':'));
  const publish = Object.entries(h.PortBindings ?? {}).flatMap(([port, b]) => publishWords(port, b));
  const expose = Object.keys(body.ExposedPorts ?? {});
  const tuning = tuningFlags(h);
  const opt = <K extends keyof CreateOptions>(key: K, value: CreateOptions[K] | undefined) => (value === undefined ? {} : { [key]: value });
  const restart = restartWord(h.RestartPolicy);
  const options: CreateOptions = {
    image: body.Image,
    // The image must be in the store: the client pulls it through /images/create on a 404.
    pull: 'never',
    // An array as it is; a string is one word (Docker's API took a string before 1.25).
    command: cmd === null || cmd === undefined ? [] : Array.isArray(cmd) ? cmd : [cmd],
    ...(entrypoint === null || entrypoint === undefined || (Array.isArray(entrypoint) && entrypoint.length === 0)
      ? {}
      : { entrypoint: Array.isArray(entrypoint) ? (entrypoint.length === 1 && entrypoint[0] === '' ? '' : JSON.stringify(entrypoint)) : entrypoint }),
    // A bare NAME is the client's to resolve (the docker CLI does): the engine would take the
    // service's own value, which is not the client's to read.
    env: strings(body.Env).filter((e) => e.includes('=')),
    labels: keyValues(body.Labels),
    annotations: keyValues(h.Annotations),
    volumes: [...strings(h.Binds), ...anonymousVolumes(body, h)],
    mounts: (h.Mounts ?? []).map(mountWord),
    tmpfs: Object.entries(h.Tmpfs ?? {}).map(([path, o]) => (o ? `${path}:${o}` : path)),
    addHosts: strings(h.ExtraHosts).map((e) => (e.includes('=') && !e.includes(':') ? e.replace('=', ':') : e)),
    dns: strings(h.Dns),
    dnsSearch: strings(h.DnsSearch),
    dnsOptions: strings(h.DnsOptions),
    capAdd: strings(h.CapAdd),
    capDrop: strings(h.CapDrop),
    securityOpt: strings(h.SecurityOpt),
    ulimits,
    tty: body.Tty ?? false,
    stdin: body.OpenStdin ?? false,
    autoRemove: h.AutoRemove ?? false,
    ...(logType === 'none' ? { logDriver: 'none' } : {}),
    privileged: h.Privileged ?? false,
    readOnly: h.ReadonlyRootfs ?? false,
    init: h.Init ?? false,
    network: networkWords(body),
    ...(publish.length ? { publish } : {}),
    ...(h.PublishAllPorts ? { publishAll: true } : {}),
    ...(expose.length ? { expose } : {}),
    ...(devices.length ? { devices } : {}),
    ...(h.GroupAdd?.length ? { groupAdd: h.GroupAdd } : {}),
    ...(h.VolumesFrom?.length ? { volumesFrom: h.VolumesFrom } : {}),
    ...(Object.keys(tuning).length ? { tuning } : {}),
    ...opt('name', name || undefined),
    ...opt('user', body.User || undefined),
    ...opt('workdir', body.WorkingDir || undefined),
    // Docker makes a missing WORKDIR, as for the image's own.
    ...(body.WorkingDir ? { createWorkdir: true } : {}),
    ...opt('hostname', body.Hostname || undefined),
    ...opt('domainname', body.Domainname || undefined),
    ...opt('restart', restart),
    ...opt('runtime', h.Runtime || undefined),
    ...opt('memory', h.Memory ? String(h.Memory) : undefined),
    ...opt('cpus', h.NanoCpus ? String(h.NanoCpus / 1e9) : undefined),
    ...opt('pidsLimit', h.PidsLimit ? String(h.PidsLimit) : undefined),
    ...opt('stopSignal', body.StopSignal || undefined),
    ...opt('stopTimeout', body.StopTimeout ?? undefined),
    health: healthFlags(body.Healthcheck, warnings),
    createCommand: [],
    warn: (message: string) => warnings.push(message),
  };
  return { options, warnings };
}

/** Resource fields an update cannot change in berth: a set one is refused. */
const REFUSED_UPDATE_FIELDS = [
  ...REFUSED_HOST_FIELDS,
  'Devices',
  'DeviceCgroupRules',
  'Ulimits',
  'OomKillDisable',
  'MemorySwappiness',
  'CgroupParent',
] as const;

/** The body of POST /containers/{id}/update (Docker's Resources and RestartPolicy) as the engine's update options. */
export function updateOptionsFromDocker(body: DockerHostConfig): { options: UpdateOptions; warnings: string[] } {
  const warnings: string[] = [];
  for (const field of REFUSED_UPDATE_FIELDS) {
    // MemorySwappiness -1 is "unchanged" to Docker's CLI.
    if (field === 'MemorySwappiness' && (body.MemorySwappiness === -1 || body.MemorySwappiness === null)) continue;
    if (!isZero(body[field])) throw badRequest(`${field} cannot be updated by berth`);
  }
  for (const field of WARNED_HOST_FIELDS) if (!isZero(body[field])) warnings.push(`${field} is not supported by berth and was ignored`);
  const tuning = cgroupTuning(body);
  const restart = body.RestartPolicy?.Name ? (restartWord(body.RestartPolicy) ?? 'no') : undefined;
  const options: UpdateOptions = {
    ...(body.Memory ? { memory: String(body.Memory) } : {}),
    ...(body.NanoCpus ? { cpus: String(body.NanoCpus / 1e9) } : {}),
    ...(body.PidsLimit ? { pidsLimit: String(body.PidsLimit) } : {}),
    ...(restart !== undefined ? { restart } : {}),
    ...(Object.keys(tuning).length ? { tuning } : {}),
  };
  return { options, warnings };
}
