/**
 * The shapes berth shares with netavark and podman: a network definition in podman's JSON format
 * (what `<root>/networks/<name>.json` holds and `network inspect` prints), and netavark's setup
 * input and output. Field names are theirs, so the files and the JSON pass between the tools as they are.
 */

/** One subnet of a network: podman's `subnets[]`. */
export interface Subnet {
  /** CIDR, e.g. `10.89.0.0/24` or `fd00:1::/64`. */
  subnet: string;
  gateway?: string;
  /** `--ip-range`: the addresses IPAM hands out. */
  lease_range?: { start_ip?: string; end_ip?: string };
}

/** A network definition, as podman 4 writes it to `/etc/containers/networks/<name>.json`. */
export interface Network {
  name: string;
  /** 64 hex characters. */
  id: string;
  driver: 'bridge' | 'macvlan' | 'ipvlan';
  /** The bridge (or, for macvlan, the parent interface). */
  network_interface: string;
  /** RFC 3339 with nanoseconds, as Go writes it. */
  created: string;
  subnets: Subnet[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  labels?: Record<string, string>;
  /** `-o` driver options: `mtu`, `isolate`, `vlan`, `mode`… (values are strings, as podman keeps them). */
  options?: Record<string, string>;
  ipam_options?: { driver: 'host-local' | 'dhcp' | 'none' };
}

/** A published port, in netavark's `port_mappings[]` shape. */
export interface PortMapping {
  /** '' for every address of the host. */
  host_ip: string;
  container_port: number;
  host_port: number;
  /** How many consecutive ports from container_port/host_port (1 for one). */
  range: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

/** What a container asks of one network it joins: netavark's `networks.<name>`. */
export interface PerNetworkOptions {
  interface_name: string;
  static_ips?: string[];
  aliases?: string[];
  static_mac?: string;
}

/** netavark's setup input. */
export interface NetworkOptions {
  container_id: string;
  container_name: string;
  port_mappings?: PortMapping[];
  networks: Record<string, PerNetworkOptions>;
  network_info: Record<string, Network>;
  dns_servers?: string[];
}

/** netavark's setup output, per network. */
export interface StatusBlock {
  dns_search_domains?: string[];
  dns_server_ips?: string[];
  interfaces?: Record<string, { mac_address: string; subnets?: { ipnet: string; gateway?: string }[] }>;
}
