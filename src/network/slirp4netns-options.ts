import { isIP } from 'node:net';
import { BerthError } from '../util/errors.js';
import { addressAt, parseSubnet } from './cidr.js';

/**
 * `--network slirp4netns[:OPTIONS]` as podman reads it (podman-run(1)): each option `NAME=VALUE`,
 * comma-separated. berth has no rootlesskit, so its port handler is slirp4netns's own (its API
 * socket), which podman offers as `port_handler=slirp4netns`: it keeps the client's source address.
 */
export interface SlirpOptions {
  /** Whether the container reaches the host's loopback at the subnet's second address (10.0.2.2). */
  allowHostLoopback: boolean;
  /** The subnet slirp4netns serves: the container is its 100th address, DNS its 3rd. */
  cidr: string;
  enableIpv6: boolean;
  mtu: number;
  /** The host address or interface outbound IPv4 (IPv6) traffic leaves from. */
  outboundAddr?: string;
  outboundAddr6?: string;
}

export const DEFAULT_SLIRP_CIDR = '10.0.2.0/24';
/** podman's default MTU, the largest slirp4netns takes less one. */
const DEFAULT_MTU = 65520;
const MAX_MTU = 65521;
/** The smallest MTU IPv4 allows. */
const MIN_MTU = 68;

const bad = (message: string) => new BerthError('USAGE', `--network slirp4netns: ${message}`);

function parseBool(name: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw bad(`${name} must be true or false, not ${JSON.stringify(value)}`);
}

/** An interface name as the kernel takes it (IFNAMSIZ, no slash or space). */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function outbound(name: string, value: string, family: 4 | 6): string {
  if (isIP(value) === family || (isIP(value) === 0 && IFNAME.test(value))) return value;
  throw bad(`${name} must be an IPv${family} address or an interface name, not ${JSON.stringify(value)}`);
}

/**
 * The options of `slirp4netns:OPTIONS` (the words after the colon, split at commas), checked as
 * podman checks them; an option berth cannot honour is refused in one line rather than ignored.
 */
export function parseSlirpOptions(words: readonly string[]): SlirpOptions {
  const opts: SlirpOptions = { allowHostLoopback: false, cidr: DEFAULT_SLIRP_CIDR, enableIpv6: true, mtu: DEFAULT_MTU };
  for (const word of words) {
    const eq = word.indexOf('=');
    const [name, value] = eq < 0 ? [word, ''] : [word.slice(0, eq), word.slice(eq + 1)];
    switch (name) {
      case 'allow_host_loopback':
        opts.allowHostLoopback = parseBool(name, value);
        break;
      case 'enable_ipv6':
        opts.enableIpv6 = parseBool(name, value);
        break;
      case 'cidr': {
        const cidr = parseSubnet(value);
        // The container's own address is the subnet's 100th: a smaller subnet has none.
        if (cidr.family !== 4 || cidr.prefix > 25) throw bad(`cidr must be an IPv4 subnet of /25 or larger, not ${JSON.stringify(value)}`);
        opts.cidr = cidr.text;
        break;
      }
      case 'mtu': {
        const mtu = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
        if (!(mtu >= MIN_MTU && mtu <= MAX_MTU)) throw bad(`mtu must be a number from ${MIN_MTU} to ${MAX_MTU}, not ${JSON.stringify(value)}`);
        opts.mtu = mtu;
        break;
      }
      case 'outbound_addr':
        opts.outboundAddr = outbound(name, value, 4);
        break;
      case 'outbound_addr6':
        opts.outboundAddr6 = outbound(name, value, 6);
        break;
      case 'port_handler':
        if (value === 'rootlesskit') throw bad('port_handler=rootlesskit is not available in berth (it has no rootlesskit): use port_handler=slirp4netns');
        if (value !== 'slirp4netns') throw bad(`port_handler must be slirp4netns, not ${JSON.stringify(value)}`);
        break;
      default:
        throw bad(`unknown option ${JSON.stringify(word)} (allow_host_loopback, cidr, enable_ipv6, mtu, outbound_addr, outbound_addr6, port_handler)`);
    }
  }
  if (opts.outboundAddr6 !== undefined && !opts.enableIpv6) throw bad('outbound_addr6 needs enable_ipv6=true');
  return opts;
}

/** The addresses slirp4netns gives a subnet: the host's loopback (gateway), its DNS forwarder, the container. */
export function slirpAddresses(cidr: string): { gateway: string; dns: string; container: string } {
  return { gateway: addressAt(cidr, 2n), dns: addressAt(cidr, 3n), container: addressAt(cidr, 100n) };
}

/** slirp4netns's flags for these options (all but the namespace, the descriptors and the API socket). */
export function slirpOptionArgs(opts: SlirpOptions): string[] {
  return [
    '--configure',
    `--mtu=${opts.mtu}`,
    ...(opts.allowHostLoopback ? [] : ['--disable-host-loopback']),
    ...(opts.cidr !== DEFAULT_SLIRP_CIDR ? [`--cidr=${opts.cidr}`] : []),
    ...(opts.enableIpv6 ? ['--enable-ipv6'] : []),
    ...(opts.outboundAddr ? [`--outbound-addr=${opts.outboundAddr}`] : []),
    ...(opts.outboundAddr6 ? [`--outbound-addr6=${opts.outboundAddr6}`] : []),
  ];
}
