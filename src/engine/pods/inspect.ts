import type { ContainerRecord } from '../../store/containers.js';
import { publishedPorts } from '../containers/inspect-network.js';
import type { PodView } from './state.js';
import { POD_CGROUP_PARENT, type PodResources } from './cgroup.js';

/** podman's PortBindings: `80/tcp` to the host addresses and ports, a range one entry per port. */
function portBindings(infra: ContainerRecord | undefined): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of infra ? publishedPorts(infra) : []) {
    for (let i = 0; i < p.range; i++) {
      const key = `${p.container_port + i}/${p.protocol}`;
      (out[key] ??= []).push({ HostIp: p.host_ip, HostPort: p.host_port === 0 ? '' : String(p.host_port + i) });
    }
  }
  return out;
}

/** The networks the infra joins, by name (podman's `Networks`). */
export function podNetworks(infra: ContainerRecord | undefined): string[] {
  if (!infra) return [];
  const mode = infra.config.network.mode;
  return mode === 'bridge' ? Object.keys(infra.config.network.networks ?? {}) : [];
}

/** podman's CPU fields of a pod with limits (omitted when unset, as its omitempty does). */
function cpuFields(r: PodResources): object {
  return {
    ...(r.cpuQuota !== undefined ? { cpu_period: r.cpuPeriod, cpu_quota: r.cpuQuota } : {}),
    ...(r.cpusetCpus !== undefined ? { cpuset_cpus: r.cpusetCpus } : {}),
  };
}

/** `pod inspect`: podman's JSON for a pod (the fields berth has). */
export function inspectPod(v: PodView): object {
  const { pod, containers, state } = v;
  const infra = containers.find((c) => c.config.pod?.infra);
  const names = infra?.config.nameResolution;
  const mode = infra?.config.network.mode;
  const r = pod.resources ?? {};
  return {
    Id: pod.id,
    Name: pod.name,
    Created: pod.created,
    CreateCommand: pod.createCommand,
    ExitPolicy: pod.exitPolicy ?? 'continue',
    State: state,
    Hostname: pod.hostname,
    Labels: pod.labels,
    CreateCgroup: pod.cgroupPath !== undefined,
    ...(pod.cgroupPath ? { CgroupParent: POD_CGROUP_PARENT, CgroupPath: pod.cgroupPath } : {}),
    CreateInfra: infra !== undefined,
    ...(infra
      ? {
          InfraContainerID: infra.id,
          InfraConfig: {
            PortBindings: portBindings(infra),
            HostNetwork: mode === 'host',
            StaticIP: '',
            StaticMAC: '',
            NoManageResolvConf: false,
            DNSServer: names?.servers.length ? names.servers : null,
            DNSSearch: names?.search.length ? names.search : null,
            DNSOption: names?.options.length ? names.options : null,
            NoManageHosts: infra.config.noHosts === true,
            HostAdd: names?.extraHosts.length ? names.extraHosts.map((h) => `${h.host}:${h.ip}`) : null,
            Networks: podNetworks(infra),
            NetworkOptions: null,
            ...cpuFields(r),
            pid_ns: 'private',
            userns: 'host',
            uts_ns: 'private',
          },
        }
      : {}),
    SharedNamespaces: pod.share.length ? pod.share : null,
    NumContainers: containers.length,
    Containers: containers.map((c) => ({ Id: c.id, Name: c.name, State: c.state.status })),
    // podman's order: period, quota, shares, cpuset, memory.
    ...(r.cpuQuota !== undefined ? { cpu_period: r.cpuPeriod, cpu_quota: r.cpuQuota } : {}),
    ...(r.cpuShares !== undefined ? { cpu_shares: r.cpuShares } : {}),
    ...(r.cpusetCpus !== undefined ? { cpuset_cpus: r.cpusetCpus } : {}),
    ...(r.memory !== undefined ? { memory_limit: r.memory, memory_swap: r.memorySwap } : {}),
  };
}
