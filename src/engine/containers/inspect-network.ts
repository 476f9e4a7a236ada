import { inspectPorts } from '../../network/port-output.js';
import { exposedPortsOf } from './network-flags.js';
import type { PortMapping } from '../../network/types.js';
import type { ContainerRecord } from '../../store/containers.js';

/**
 * inspect's NetworkSettings and HostConfig network fields as podman 4 fills them: per network its
 * address, gateway, MAC and aliases; the top-level address fields from the first network; the
 * published ports (host ports resolved while running).
 */

const emptyAddress = {
  EndpointID: '',
  Gateway: '',
  IPAddress: '',
  IPPrefixLen: 0,
  IPv6Gateway: '',
  GlobalIPv6Address: '',
  GlobalIPv6PrefixLen: 0,
  MacAddress: '',
};

/** The ports as they are published: resolved while the container runs, as asked otherwise. */
export function publishedPorts(c: ContainerRecord): PortMapping[] {
  return c.state.network?.ports ?? c.config.network.publish ?? [];
}

function addresses(c: ContainerRecord, name: string): typeof emptyAddress {
  const joined = c.state.network?.networks[name];
  const out = { ...emptyAddress };
  for (const iface of Object.values(joined?.status.interfaces ?? {})) {
    out.MacAddress = iface.mac_address;
    for (const s of iface.subnets ?? []) {
      const [ip, prefix] = s.ipnet.split('/') as [string, string];
      if (ip.includes(':')) {
        out.GlobalIPv6Address = ip;
        out.GlobalIPv6PrefixLen = Number(prefix);
        out.IPv6Gateway = s.gateway ?? '';
      } else {
        out.IPAddress = ip;
        out.IPPrefixLen = Number(prefix);
        out.Gateway = s.gateway ?? '';
      }
    }
  }
  return out;
}

export function networkSettings(c: ContainerRecord): object {
  const running = c.state.status === 'running' || c.state.status === 'paused';
  const mode = c.config.network.mode;
  const sandbox = !running || mode === 'host' ? '' : (c.state.network?.netns ?? (mode === 'ns' ? c.config.network.path! : `/proc/${c.state.pid}/ns/net`));
  const names = Object.keys(c.config.network.networks ?? {});
  const networks = Object.fromEntries(
    names.map((name) => {
      const asked = c.config.network.networks![name]!;
      return [
        name,
        {
          ...addresses(c, name),
          NetworkID: name,
          DriverOpts: null,
          IPAMConfig: null,
          Links: null,
          Aliases: [...asked.aliases, c.id.slice(0, 12)],
        },
      ];
    }),
  );
  const first = names[0] ? addresses(c, names[0]) : emptyAddress;
  const settings = {
    ...first,
    Bridge: '',
    SandboxID: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: inspectPorts(publishedPorts(c), exposedPortsOf(c)),
    SandboxKey: sandbox,
    ...(names.length ? { Networks: networks } : {}),
  };
  // podman's Networks is omitempty: left out of the JSON without networks, but a template still sees an empty map.
  if (!names.length) Object.defineProperty(settings, 'Networks', { value: {}, enumerable: false });
  return settings;
}

/** HostConfig's NetworkMode and PortBindings, as podman shows them. */
export function networkHostConfig(c: ContainerRecord): object {
  const mode = c.config.network.mode;
  const networkMode = mode === 'container' ? `container:${c.config.network.container}` : mode === 'ns' ? `ns:${c.config.network.path}` : mode;
  return { NetworkMode: networkMode, PortBindings: inspectPorts(c.config.network.publish ?? [], []), PublishAllPorts: c.config.network.publishAll === true };
}
