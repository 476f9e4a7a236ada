import type { ContainerRecord } from '../../store/containers.js';
import { publishedPorts } from '../containers/inspect-network.js';
import type { PodView } from './state.js';

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

/** `pod inspect`: podman's JSON for a pod (the fields berth has). */
export function inspectPod(v: PodView): object {
  const { pod, containers, state } = v;
  const infra = containers.find((c) => c.config.pod?.infra);
  const names = infra?.config.nameResolution;
  const mode = infra?.config.network.mode;
  return {
    Id: pod.id,
    Name: pod.name,
    Created: pod.created,
    CreateCommand: pod.createCommand,
    ExitPolicy: 'continue',
    State: state,
    Hostname: pod.hostname,
    Labels: pod.labels,
    CreateCgroup: false,
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
            pid_ns: 'private',
            userns: 'host',
            uts_ns: 'private',
          },
        }
      : {}),
    SharedNamespaces: pod.share.length ? pod.share : null,
    NumContainers: containers.length,
    Containers: containers.map((c) => ({ Id: c.id, Name: c.name, State: c.state.status })),
  };
}
