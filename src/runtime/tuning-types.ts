/**
 * The settings of the newer `run`/`create` flags as runtime takes them: kernel settings (cgroup
 * resources, host namespaces, sysctls, umask, OOM score, /dev/shm's size) and devices. The
 * container record (store/container-tuning.ts) keeps them in these same shapes.
 */
export interface ContainerTuning {
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** Memory plus swap, in bytes; -1 for unlimited swap. */
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  oomScoreAdj?: number;
  blkioWeight?: number;
  /** /dev/shm's size in bytes (podman's default is 64m). */
  shmSize?: number;
  sysctls?: Record<string, string>;
  umask?: number;
  /** Namespaces shared with the host rather than the container's own. */
  hostNamespaces?: ('pid' | 'ipc' | 'uts' | 'cgroup')[];
  /**
   * `--pid container:ID`, `--ipc ns:PATH`...: namespaces joined, another container's (by ID; its
   * process's at each start, so it must be running) or a path's.
   */
  joinNamespaces?: Partial<Record<JoinableNamespace, NamespaceJoin>>;
  /** `--personality`: the execution domain. */
  personality?: 'LINUX' | 'LINUX32';
  /** `--device-cgroup-rule`s: more devices the device cgroup allows (no node is made). */
  deviceRules?: DeviceRule[];
  /** `--device-read-bps` and friends: per block device limits, in bytes or operations per second. */
  blkioThrottle?: Partial<Record<BlkioThrottleKind, DeviceRate[]>>;
}

export type JoinableNamespace = 'pid' | 'ipc' | 'uts' | 'cgroup';
export type NamespaceJoin = { container: string } | { path: string };

export type BlkioThrottleKind = 'throttleReadBpsDevice' | 'throttleWriteBpsDevice' | 'throttleReadIOPSDevice' | 'throttleWriteIOPSDevice';
export interface DeviceRate {
  major: number;
  minor: number;
  rate: number;
}

/** A device cgroup rule; no major or minor means any (`*`). */
export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major?: number;
  minor?: number;
  access: string;
}

/** `--device HOST[:CONTAINER][:PERMISSIONS]`, with the node as it was on the host at create. */
export interface ContainerDevice {
  hostPath: string;
  containerPath: string;
  /** The device cgroup access: some of r, w and m. */
  permissions: string;
  node: { type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number };
}
