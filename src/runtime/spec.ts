import { cgroupsDisabled } from './rootless-cgroups.js';
import type { IdMap } from './id-mappings.js';
import type { ContainerDevice, ContainerTuning } from './tuning-types.js';
import { effectiveCapabilities } from './capabilities.js';
import { ociDevices } from './devices.js';
import type { HostDevice, HostLimit } from './host.js';
import { cpuQuota, parseUlimit, RLIM_INFINITY, type Rlimit, type SecurityOptions } from './options.js';
import type { OciSeccomp } from './seccomp.js';
import type { ResolvedUser } from './user.js';
import { tunedResources, type OciTunedResources } from './tuning.js';
import { BerthError } from '../util/errors.js';

/**
 * The OCI runtime spec (config.json) of a container, built the way podman builds it for the same
 * flags: its namespaces, default capabilities, masked and read-only /proc and /sys paths, the
 * device cgroup, default rlimits, and the mounts every container has. Pure: what it needs from
 * the host (limits, devices, the seccomp profile) comes in as input.
 */

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface ProcessSpec {
  terminal?: boolean;
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}

export interface RuntimeSpec {
  ociVersion: string;
  process: ProcessSpec;
  root: { path: string; readonly: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    cgroupsPath?: string;
    namespaces: { type: string; path?: string }[];
    uidMappings?: IdMap[];
    gidMappings?: IdMap[];
    resources?: {
      devices: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
      memory?: NonNullable<OciTunedResources['memory']>;
      cpu?: NonNullable<OciTunedResources['cpu']>;
      blockIO?: NonNullable<OciTunedResources['blockIO']>;
      pids?: { limit: number };
    };
    devices?: { path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
    seccomp?: OciSeccomp;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    sysctl?: Record<string, string>;
    personality?: { domain: string };
  };
}

export interface SpecInput {
  rootfs: string;
  args: string[];
  env: string[];
  user: ResolvedUser;
  workdir: string;
  terminal: boolean;
  hostname: string;
  domainname?: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  security: SecurityOptions;
  /** The converted profile, or undefined for unconfined (privileged or seccomp=unconfined). */
  seccomp?: OciSeccomp;
  readOnly: boolean;
  mounts: OciMount[];
  resources: { memory?: number; cpus?: number; pidsLimit?: number };
  ulimits: string[];
  init?: { hostPath: string };
  /**
   * A host directory bound at /dev/shm instead of a tmpfs of the container's own: a pod's, shared by
   * the containers that share its IPC namespace (POSIX shared memory lives in /dev/shm's files).
   */
  shm?: string;
  /** Another container's namespaces joined instead of making them (a pod's infra's): type to the namespace file. */
  joinNamespaces?: Partial<Record<'ipc' | 'uts' | 'pid' | 'cgroup', string>>;
  /** `path`: join that namespace (a pinned one netavark set up, another container's) instead of making one. */
  network: { mode: 'host' | 'private' | 'none'; path?: string };
  etcFiles: { hosts: string; resolvConf: string; hostname: string };
  cgroupsPath: string;
  annotations: Record<string, string>;
  /** The newer flags' kernel settings, --device, and --read-only-tmpfs (true unless turned off). */
  tuning?: ContainerTuning;
  devices?: ContainerDevice[];
  readOnlyTmpfs?: boolean;
  /** --no-hosts: the image's /etc/hosts stays. */
  noHosts?: boolean;
  /** A user namespace of the container's own, with these maps (`--userns`, `--uidmap`). */
  idMappings?: { uidMappings: IdMap[]; gidMappings: IdMap[] };
  host: { limits: Map<string, HostLimit>; canRaiseLimits: boolean; devices: HostDevice[]; capabilities: readonly string[] };
}

/** podman's masked and read-only paths (containers/common pkg/config). */
export const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/fs/selinux',
  '/sys/dev/block',
];
export const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Where --init's binary appears inside the container. */
export const INIT_PATH = '/run/berth-init';

/** The device nodes every container may use (docker's and podman's default allow list). */
const DEFAULT_DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts/*
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // net/tun
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
];

/** podman's defaults for root: enough open files and processes for anything, within the host's hard limit. */
const DEFAULT_RLIMITS: Record<string, number> = { RLIMIT_NOFILE: 1_048_576, RLIMIT_NPROC: 4_194_304 };

function rlimits(input: SpecInput): Rlimit[] {
  const { limits, canRaiseLimits } = input.host;
  const out = new Map<string, Rlimit>();
  for (const [type, value] of Object.entries(DEFAULT_RLIMITS)) {
    const hard = limits.get(type)?.hard ?? Infinity;
    const v = canRaiseLimits ? value : Math.min(value, hard);
    out.set(type, { type, soft: v, hard: v });
  }
  for (const spec of input.ulimits) {
    const limit = parseUlimit(spec);
    const hostHard = limits.get(limit.type)?.hard ?? Infinity;
    const num = (v: number | string) => (v === RLIM_INFINITY ? Infinity : Number(v));
    if (!canRaiseLimits && num(limit.hard) > hostHard) {
      throw new BerthError('USAGE', `--ulimit ${spec}: the hard limit is above this host's ${hostHard}, and berth lacks CAP_SYS_RESOURCE to raise it`);
    }
    out.set(limit.type, limit);
  }
  return [...out.values()];
}

function baseMounts(input: SpecInput): OciMount[] {
  const sysOptions = ['nosuid', 'noexec', 'nodev', ...(input.privileged ? [] : ['ro'])];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    input.shm
      ? { destination: '/dev/shm', type: 'bind', source: input.shm, options: ['bind', 'rprivate', 'nosuid', 'noexec', 'nodev'] }
      : {
          destination: '/dev/shm',
          type: 'tmpfs',
          source: 'shm',
          options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSizeOption(input.tuning?.shmSize)}`],
        },
    // With the host's network, its sysfs is the one that matches: bind it rather than mount a new one.
    // So too in a user namespace of its own joining a network namespace made outside it, which the
    // kernel does not let it mount a sysfs for.
    input.network.mode === 'host' || (input.idMappings && input.network.path)
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', ...sysOptions, 'rprivate'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOptions },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', input.privileged ? 'rw' : 'ro'],
    },
    ...(input.noHosts ? [] : [{ destination: '/etc/hosts', type: 'bind', source: input.etcFiles.hosts, options: ['bind', 'rprivate'] }]),
    { destination: '/etc/resolv.conf', type: 'bind', source: input.etcFiles.resolvConf, options: ['bind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: input.etcFiles.hostname, options: ['bind', 'rprivate'] },
  ];
}

/** tmpfs's size= for /dev/shm: podman's 64m by default, else the bytes asked for (in k when whole). */
export function shmSizeOption(bytes: number | undefined): string {
  if (bytes === undefined) return '65536k';
  return bytes % 1024 === 0 ? `${bytes / 1024}k` : String(bytes);
}

/**
 * The limits of config.json's linux.resources (memory, CPU, block I/O, PIDs): what a spec is made
 * with, and what the runtime's `update` changes on a running container.
 */
export function limitResources(
  limits: SpecInput['resources'],
  tuning: ContainerTuning,
): Pick<NonNullable<RuntimeSpec['linux']['resources']>, 'memory' | 'cpu' | 'blockIO' | 'pids'> {
  const resources: Pick<NonNullable<RuntimeSpec['linux']['resources']>, 'memory' | 'cpu' | 'blockIO' | 'pids'> = {};
  // 0 is no limit, as podman reads it: the runtime would take it as a limit of nothing.
  if (limits.memory) resources.memory = { limit: limits.memory };
  if (limits.cpus !== undefined) resources.cpu = cpuQuota(limits.cpus);
  Object.assign(resources, tunedResources(tuning, resources));
  if (limits.pidsLimit !== undefined && limits.pidsLimit > 0) resources.pids = { limit: limits.pidsLimit };
  return resources;
}

/** Later mounts on the same destination replace earlier ones (a user's -v over /etc/hosts wins). */
function mergeMounts(...lists: OciMount[][]): OciMount[] {
  const byDest = new Map<string, OciMount>();
  for (const m of lists.flat()) {
    byDest.delete(m.destination);
    byDest.set(m.destination, m);
  }
  // Parents before children, so /dev is mounted before /dev/pts whatever order they came in.
  return [...byDest.values()].sort((a, b) => depth(a.destination) - depth(b.destination));
}

const depth = (p: string) => p.split('/').filter(Boolean).length;

export function buildRuntimeSpec(input: SpecInput): RuntimeSpec {
  const caps = effectiveCapabilities(input, input.host.capabilities);
  const unmaskAll = input.security.unmask.includes('ALL');
  const unmasked = (p: string) => unmaskAll || input.security.unmask.includes(p);
  const extra: OciMount[] = [];
  if (input.readOnly && input.readOnlyTmpfs !== false) {
    // podman's --read-only-tmpfs default: the places programs expect to write stay writable.
    for (const dest of ['/tmp', '/var/tmp', '/run'])
      extra.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev'] });
  }
  let args = input.args;
  if (input.init) {
    extra.push({ destination: INIT_PATH, type: 'bind', source: input.init.hostPath, options: ['bind', 'ro', 'rprivate'] });
    args = [INIT_PATH, '--', ...args];
  }
  const hostNamespaces: string[] = input.tuning?.hostNamespaces ?? [];
  const namespaces: { type: string; path?: string }[] = ['pid', 'ipc', 'uts', 'mount', 'cgroup', ...(input.network.mode === 'host' ? [] : ['network'])]
    .filter((ns) => !hostNamespaces.includes(ns))
    .map((type) => {
      if (type === 'network' && input.network.path) return { type, path: input.network.path };
      const joined = input.joinNamespaces?.[type as 'ipc' | 'uts' | 'pid' | 'cgroup'];
      return joined ? { type, path: joined } : { type };
    });
  // A joined UTS namespace's name is its owner's: the runtime may not set one there.
  const ownUts = !hostNamespaces.includes('uts') && !input.joinNamespaces?.uts;
  if (input.idMappings) namespaces.push({ type: 'user' });
  // Unprivileged ping for the container's root, in a network namespace of its own: one made outside
  // a user namespace of its own is not the container's to tune.
  const pingGroups = input.network.mode !== 'host' && !(input.idMappings && input.network.path);
  const devices = ociDevices(input.devices ?? []);
  const resources: RuntimeSpec['linux']['resources'] = {
    devices: input.privileged
      ? [{ allow: true, access: 'rwm' }]
      : [...DEFAULT_DEVICE_RULES, ...devices.rules, ...(input.tuning?.deviceRules ?? []).map((r) => ({ allow: true, ...r }))],
  };
  Object.assign(resources, limitResources(input.resources, input.tuning ?? {}));
  const user: ProcessSpec['user'] = { uid: input.user.uid, gid: input.user.gid, umask: input.tuning?.umask ?? 0o022 };
  if (input.user.additionalGids.length > 0) user.additionalGids = input.user.additionalGids;
  const spec: RuntimeSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: input.terminal,
      user,
      args,
      env: input.env,
      cwd: input.workdir,
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      rlimits: rlimits(input),
      noNewPrivileges: input.security.noNewPrivileges,
      oomScoreAdj: input.tuning?.oomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, readonly: input.readOnly },
    // In the host's UTS namespace the name is the host's: the runtime may not set one.
    ...(!ownUts ? {} : { hostname: input.hostname, ...(input.domainname ? { domainname: input.domainname } : {}) }),
    mounts: mergeMounts(baseMounts(input), extra, input.mounts),
    ...(Object.keys(input.annotations).length ? { annotations: input.annotations } : {}),
    linux: {
      // Without a cgroup to have (rootless on v1), none is named and no resources asked: runc then
      // makes none instead of failing on the host's hierarchy.
      ...(cgroupsDisabled() ? {} : { cgroupsPath: input.cgroupsPath }),
      namespaces,
      ...(input.idMappings ? { uidMappings: input.idMappings.uidMappings, gidMappings: input.idMappings.gidMappings } : {}),
      ...(cgroupsDisabled() ? {} : { resources }),
      ...(pingGroups || input.tuning?.sysctls ? { sysctl: { ...(pingGroups ? { 'net.ipv4.ping_group_range': '0 0' } : {}), ...input.tuning?.sysctls } } : {}),
    },
  };
  if (input.privileged) {
    spec.linux.devices = input.host.devices.map((d) => ({ ...d }));
  } else {
    if (devices.nodes.length) spec.linux.devices = devices.nodes;
    spec.linux.maskedPaths = [...MASKED_PATHS, ...input.security.mask].filter((p) => !unmasked(p));
    spec.linux.readonlyPaths = READONLY_PATHS.filter((p) => !unmasked(p));
  }
  if (input.seccomp) spec.linux.seccomp = input.seccomp;
  if (input.tuning?.personality) spec.linux.personality = { domain: input.tuning.personality };
  return spec;
}

/** config.json text; an unlimited rlimit is the uint64 maximum, which a JS number cannot hold exactly. */
export function serializeSpec(spec: RuntimeSpec): string {
  const marker = '"__berth_rlim_infinity__"';
  const text = JSON.stringify(
    spec,
    (key, value: unknown) => (value === RLIM_INFINITY && (key === 'soft' || key === 'hard') ? '__berth_rlim_infinity__' : value),
    2,
  );
  return text.split(marker).join('18446744073709551615');
}
