import type { Network, PortMapping, StatusBlock } from '../network/types.js';
import type { ForwarderState } from '../network/forwarder.js';
import type { ContainerDevice, ContainerTuning } from './container-tuning.js';
import type { ContainerSecret } from './secrets.js';
import type { ContainerIdMappings } from '../runtime/id-mappings.js';

/** Podman's container states, as `ps` and `inspect` print them. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopping' | 'exited' | 'removing';

/**
 * What a container of a pod keeps of it: the pod's ID, whether it is the infra container (which
 * holds the namespaces), and for a member the infra's ID and the namespaces besides the network
 * it joins (the network through `network.mode` `container`).
 */
export interface ContainerPodMembership {
  id: string;
  infra?: boolean;
  infraId?: string;
  joins?: ('ipc' | 'uts' | 'pid')[];
  /** The pod's cgroup (`/berth/<pod ID>`), the parent of this container's; absent for pods made before pods had one. */
  cgroupParent?: string;
}

/** A container's cgroup path: under its pod's cgroup when it has one, else under berth's own. */
export function containerCgroupPath(c: { id: string; config: { pod?: ContainerPodMembership } }): string {
  return `${c.config.pod?.cgroupParent ?? '/berth'}/berth-${c.id}`;
}

/** A mount besides the root, parsed from -v, --mount, --tmpfs and the image's VOLUMEs. */
export type ContainerMount =
  | { type: 'bind'; source: string; destination: string; options: string[] }
  | { type: 'volume'; name: string; anonymous: boolean; destination: string; options: string[]; noCopy: boolean }
  | { type: 'tmpfs'; destination: string; options: string[] }
  /** `--mount type=image`: an image's root (`source` as named, `imageId` the image it named at create), read-only unless `readWrite`. */
  | { type: 'image'; source: string; imageId: string; destination: string; options: string[]; readWrite: boolean };

/** A container's healthcheck, in the image config's shape (durations in nanoseconds), plus podman's on-failure action. */
export interface HealthConfig {
  /** `["CMD", arg...]`, `["CMD-SHELL", command]` or `["NONE"]`. */
  Test: string[];
  Interval: number;
  Timeout: number;
  StartPeriod: number;
  Retries: number;
  OnFailure: 'none' | 'kill' | 'restart' | 'stop';
}

/** What a container asks of one network it joins (bridge mode). */
export interface NetworkAttachment {
  /** `--network-alias` (the name and short ID are added when set up). */
  aliases: string[];
  /** `--ip`/`--ip6`, or the addresses a running `network connect --ip` asked for. */
  staticIps: string[];
  staticMac?: string;
  /** eth0, eth1…: fixed when the container joins, so a reconnect keeps its name. */
  interfaceName: string;
}

/**
 * The container's network: its own namespace on bridge networks (netavark), none (loopback only),
 * the host's, a user-mode forwarder's (slirp4netns, pasta), another container's (`container:ID`)
 * or a given namespace (`ns:PATH`).
 */
export interface ContainerNetworkConfig {
  mode: 'bridge' | 'none' | 'host' | 'slirp4netns' | 'pasta' | 'container' | 'ns';
  /** slirp4netns, pasta: the words of `MODE:OPTIONS`, as given (checked at create). */
  options?: string[];
  /** bridge: network name to what the container asks of it, in the order given. */
  networks?: Record<string, NetworkAttachment>;
  /** container: the ID of the container whose namespace it joins. */
  container?: string;
  /** ns: the namespace file. */
  path?: string;
  /** `-p` as parsed (host_port 0: one picked at start). */
  publish?: PortMapping[];
  /** `-P`: every exposed port gets a random host port. */
  publishAll?: boolean;
  /** `--expose` and the image's EXPOSE, as `80/tcp`. */
  expose?: string[];
}

/** What netavark, or a user-mode forwarder, set up for a running container: enough for teardown without anything else. */
export interface ContainerNetworkState {
  netns: string;
  /** The published ports with their host ports resolved. */
  ports: PortMapping[];
  /** Per network name: its definition when set up (teardown needs it even after `network rm`), the addresses leased, netavark's result. */
  networks: Record<string, { network: Network; ips: string[]; status: StatusBlock }>;
  /** slirp4netns, pasta: the forwarder serving the namespace, ended and its files removed at teardown. */
  forwarder?: ForwarderState;
}

/** How a container runs: fixed when it is created (a rename changes only the record's name). */
export interface ContainerSpecConfig {
  /** The process: the image's Entrypoint/Cmd with the user's overrides applied. */
  entrypoint: string[];
  command: string[];
  env: string[];
  user: string;
  workdir: string;
  /** The workdir was named with --workdir: start fails when it is missing instead of making it (podman). */
  workdirMustExist?: boolean;
  tty: boolean;
  stdin: boolean;
  hostname: string;
  /** The NIS domain name (Docker's `--domainname`): absent when not set. */
  domainname?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  stopSignal: string;
  stopTimeout: number;
  runtime: string;
  network: ContainerNetworkConfig;
  /** --add-host, --dns, --dns-search, --dns-option: checked at create, written into /etc/hosts and resolv.conf. */
  nameResolution?: NameResolution;
  /** `-v`, `--mount` and `--tmpfs` as given (for inspect), and what they parsed to. */
  volumes: string[];
  mounts: string[];
  tmpfs: string[];
  mountSpecs: ContainerMount[];
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  readOnly: boolean;
  init: boolean;
  memory?: number;
  cpus?: number;
  pidsLimit?: number;
  ulimits: string[];
  autoRemove: boolean;
  /** `--log-driver none`: conmon keeps no log (`logs` refuses, attach still works); absent: k8s-file. */
  logDriver?: 'none';
  /**
   * Its own user namespace (`--userns=keep-id|nomap|auto`, `--uidmap`); absent, it runs in berth's
   * own. The root's files are given these owners at the first start (`rootOwnersShifted`).
   */
  userNamespace?: ContainerIdMappings;
  /** The writable layer is thrown away after one run (`--rm`, a build's RUN): mounted volatile, never synced. */
  volatile?: boolean;
  restartPolicy: { name: 'no' | 'on-failure' | 'always' | 'unless-stopped'; maxRetries: number };
  /** Absent when the container has none (neither flags nor the image's HEALTHCHECK). */
  healthcheck?: HealthConfig;
  /** The command line that created it, for inspect's CreateCommand. */
  createCommand: string[];
  /** `--secret`s: copies in the bundle, mounted or set in the environment at start. */
  secrets?: ContainerSecret[];
  /** The newer flags: cgroup resources, host namespaces, sysctls, umask, OOM score, /dev/shm size. */
  tuning?: ContainerTuning;
  /** `--device`s. */
  devices?: ContainerDevice[];
  /** `--group-add`: supplementary groups (names looked up in the container at start). */
  groupAdd?: string[];
  /** `--tz`: an IANA zone or `local`; /etc/localtime in the container. */
  timezone?: string;
  /** `--no-hosts`: /etc/hosts is the image's own. */
  noHosts?: boolean;
  /** `--read-only-tmpfs=false`: no tmpfs on /tmp, /var/tmp, /run with --read-only. */
  readOnlyTmpfs?: boolean;
  /** `--cidfile`: where the ID was written at create (for inspect's ContainerIDFile). */
  cidFile?: string;
  /** `--pidfile`: where each start writes the container's PID (absolute). */
  pidFile?: string;
  /** `--conmon-pidfile`: where each start writes its monitor's PID (absolute). */
  conmonPidFile?: string;
  /** `--timeout`: seconds the container may run before its monitor kills it (at each start). */
  timeoutSeconds?: number;
  /** `--init-path`: the init binary for --init. */
  initPath?: string;
  /** A pod's member (`--pod`) or its infra container: the namespaces it shares are the infra's. */
  pod?: ContainerPodMembership;
}

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  conmonPid: number;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  exitCode: number;
  oomKilled: boolean;
  restartCount: number;
  /** Set by stop/kill so that a restart policy does not bring it back, as docker does. */
  stoppedByUser: boolean;
  /** The rootfs overlay is mounted (counted by berth mount / running). */
  mounted: boolean;
  /** Helper processes of the running container (its health timer). */
  helpers: number[];
  /** Set while netavark has set the container up (bridge networks): what teardown must undo. */
  network?: ContainerNetworkState | undefined;
  error?: string | undefined;
  /**
   * Who cleans up after the process exits, chosen at start: the berth process that started it and
   * waits for it (`caller`: a foreground run, `start -a`, a build's RUN; `ownerToken` names it), or
   * conmon's exit command (`monitor`: a detached container). Absent in records of older berths: the monitor.
   */
  cleanupOwner?: 'caller' | 'monitor' | undefined;
  /** `PID-STARTTIME` of the caller that owns the cleanup (util/process.ts). */
  ownerToken?: string | undefined;
}

export interface ContainerRecord {
  id: string;
  name: string;
  /** The image ID and the name it was asked for by. */
  image: string;
  imageName: string;
  /** Chain IDs of the image's layers, bottom first (the overlay's lowerdirs). */
  layers: string[];
  created: string;
  config: ContainerSpecConfig;
  state: ContainerState;
}

/**
 * A record as `containers.json` holds it: the fixed settings only. The state lives in the
 * container's own `state.json` (store/container-state.ts); records written by older berths carry
 * it inline, which is read until the container's first state change writes its file.
 */
export type StoredContainer = Omit<ContainerRecord, 'state'> & { state?: ContainerState };

export function newContainerState(): ContainerState {
  return { status: 'created', pid: 0, conmonPid: 0, exitCode: 0, oomKilled: false, restartCount: 0, stoppedByUser: false, mounted: false, helpers: [] };
}

/** Extra /etc/hosts entries and resolv.conf settings; an empty list keeps the default. */
export interface NameResolution {
  extraHosts: { host: string; ip: string }[];
  servers: string[];
  /** `.` alone: no search domains at all. */
  search: string[];
  options: string[];
}
