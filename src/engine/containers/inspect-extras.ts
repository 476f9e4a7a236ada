import type { ContainerRecord } from '../../store/containers.js';

/** podman's Umask string: four octal digits. */
export function umaskText(c: ContainerRecord): string {
  return (c.config.tuning?.umask ?? 0o022).toString(8).padStart(4, '0');
}

/** The HostConfig fields of the newer `run`/`create` flags, with podman's values when unset. */
export function tuningHostConfig(c: ContainerRecord): Record<string, unknown> {
  const t = c.config.tuning ?? {};
  const hostNs = (ns: 'pid' | 'ipc' | 'uts' | 'cgroup', own: string) => {
    if (t.hostNamespaces?.includes(ns)) return 'host';
    const join = t.joinNamespaces?.[ns];
    if (join) return 'container' in join ? `container:${join.container}` : `ns:${join.path}`;
    return own;
  };
  const memory = c.config.memory ?? 0;
  return {
    CpuShares: t.cpuShares ?? 0,
    CpuPeriod: t.cpuPeriod ?? 0,
    CpuQuota: t.cpuQuota ?? 0,
    CpusetCpus: t.cpusetCpus ?? '',
    CpusetMems: t.cpusetMems ?? '',
    MemorySwap: t.memorySwap ?? (memory > 0 ? memory * 2 : 0),
    MemoryReservation: t.memoryReservation ?? 0,
    MemorySwappiness: t.memorySwappiness ?? -1,
    OomKillDisable: t.oomKillDisable ?? false,
    OomScoreAdj: t.oomScoreAdj ?? 0,
    BlkioWeight: t.blkioWeight ?? 0,
    ShmSize: t.shmSize ?? 65536 * 1024,
    Sysctls: t.sysctls ?? null,
    GroupAdd: c.config.groupAdd ?? [],
    PidMode: hostNs('pid', 'private'),
    IpcMode: hostNs('ipc', 'shareable'),
    UTSMode: hostNs('uts', 'private'),
    CgroupnsMode: hostNs('cgroup', 'private'),
    Devices: (c.config.devices ?? []).map((d) => ({ PathOnHost: d.hostPath, PathInContainer: d.containerPath, CgroupPermissions: d.permissions })),
    ContainerIDFile: c.config.cidFile ?? '',
    LogConfig: { Type: c.config.logDriver ?? 'k8s-file', Config: null, Path: '', Tag: '', Size: '0B' },
  };
}
