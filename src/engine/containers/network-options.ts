import { isIP } from 'node:net';
import { DEFAULT_NETWORK } from '../../network/definitions.js';
import { BerthError } from '../../util/errors.js';

/**
 * One network a container joins as `--network` names it: `NAME[:OPTIONS]`, or `bridge[:OPTIONS]`
 * for the default network, where OPTIONS are podman 4's comma-separated `alias=`, `ip=` (IPv4 or
 * IPv6; `ip6=` too), `mac=` and `interface_name=`.
 */
export interface NetworkRequest {
  name: string;
  aliases: string[];
  staticIps: string[];
  staticMac?: string;
  interfaceName?: string;
}

export const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** The words that pick the default network (podman: `bridge`; `private`/`default` as root). */
const DEFAULT_WORDS = new Set(['bridge', 'private', 'default']);

/** One option list `alias=a,ip=10.0.0.5,...`, with podman 4's messages for what is wrong. */
function parseOptions(options: string): Omit<NetworkRequest, 'name'> {
  const out: Omit<NetworkRequest, 'name'> = { aliases: [], staticIps: [] };
  for (const option of options.split(',')) {
    const eq = option.indexOf('=');
    const key = eq === -1 ? option : option.slice(0, eq);
    const value = eq === -1 ? '' : option.slice(eq + 1);
    switch (key) {
      case 'ip':
      case 'ip6':
        if (isIP(value) === 0) throw new Error(`invalid ip address ${JSON.stringify(value)}`);
        out.staticIps.push(value);
        break;
      case 'mac':
        if (!MAC.test(value)) throw new Error(`address ${value}: invalid MAC address`);
        out.staticMac = value.toLowerCase();
        break;
      case 'alias':
        if (value === '') throw new Error('alias cannot be empty');
        out.aliases.push(value);
        break;
      case 'interface_name':
        if (value === '') throw new Error('interface_name cannot be empty');
        out.interfaceName = value;
        break;
      default:
        throw new Error(`unknown bridge network option: ${key}`);
    }
  }
  return out;
}

/**
 * Parses one `--network` word naming a network (not a mode such as host or `container:ID`):
 * `bridge[:OPTIONS]` is the default network, `NAME[:OPTIONS]` another. Errors are podman's.
 */
export function parseNetworkRequest(word: string): NetworkRequest {
  const colon = word.indexOf(':');
  const name = colon === -1 ? word : word.slice(0, colon);
  const options = colon === -1 ? '' : word.slice(colon + 1);
  const isDefault = DEFAULT_WORDS.has(name);
  if (name === '') throw new BerthError('USAGE', 'network name cannot be empty');
  try {
    return { name: isDefault ? DEFAULT_NETWORK : name, ...(options === '' ? { aliases: [], staticIps: [] } : parseOptions(options)) };
  } catch (e) {
    // podman names the network in the message, except for the default bridge.
    throw new BerthError('USAGE', isDefault ? (e as Error).message : `invalid option for network ${name}: ${(e as Error).message}`);
  }
}

/**
 * Interface names for networks joined in this order: the ones asked for, the rest the lowest
 * `ethN` not taken (as podman names them: `--network a:interface_name=x --network b` gives b eth0).
 */
export function interfaceNames(asked: readonly (string | undefined)[], taken: Iterable<string> = []): string[] {
  const used = new Set([...taken, ...asked.filter((n): n is string => n !== undefined)]);
  let next = 0;
  return asked.map((name) => {
    if (name !== undefined) return name;
    while (used.has(`eth${next}`)) next++;
    used.add(`eth${next}`);
    return `eth${next}`;
  });
}
