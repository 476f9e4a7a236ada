import type { Network } from '../../network/types.js';
import { BerthError } from '../../util/errors.js';

/** What a network filter looks at: a definition, or an API's view of one (Docker's host and none have drivers of their own). */
export type FilterableNetwork = Pick<Network, 'name' | 'id' | 'created' | 'labels'> & { driver: string };

/**
 * podman's `network ls` filters (`KEY=VALUE`): the same key ORed, different keys ANDed. `name`
 * and `id` are regular expressions as podman and Docker match them (a value that is none is taken
 * as it is); `inUse` decides `dangling`.
 */
export function networkFilter<N extends FilterableNetwork>(filters: readonly string[], inUse: (n: N) => boolean): (n: N) => boolean {
  const byKey = new Map<string, ((n: N) => boolean)[]>();
  for (const filter of filters) {
    const eq = filter.indexOf('=');
    if (eq === -1) throw new BerthError('USAGE', `invalid filter "${filter}": expected KEY=VALUE`);
    const key = filter.slice(0, eq);
    const value = filter.slice(eq + 1);
    const regex = (field: string) => {
      try {
        return new RegExp(value).test(field);
      } catch {
        return field === value;
      }
    };
    let test: (n: N) => boolean;
    switch (key) {
      case 'name':
        test = (n) => regex(n.name);
        break;
      case 'id':
        test = (n) => n.id.startsWith(value);
        break;
      case 'driver':
        test = (n) => n.driver === value;
        break;
      case 'label': {
        const [k, v] = value.split('=', 2) as [string, string | undefined];
        test = (n) => n.labels !== undefined && Object.hasOwn(n.labels, k) && (v === undefined || n.labels[k] === v);
        break;
      }
      case 'label!': {
        const [k, v] = value.split('=', 2) as [string, string | undefined];
        test = (n) => !(n.labels !== undefined && Object.hasOwn(n.labels, k) && (v === undefined || n.labels[k] === v));
        break;
      }
      case 'dangling':
        if (!['true', 'false', '1', '0'].includes(value)) throw new BerthError('USAGE', `invalid dangling filter value "${value}"`);
        test = (n) => inUse(n) === (value === 'false' || value === '0');
        break;
      case 'until': {
        const limit = Date.parse(value) || (/^\d+$/.test(value) ? Number(value) * 1000 : NaN);
        if (Number.isNaN(limit)) throw new BerthError('USAGE', `invalid until filter value "${value}"`);
        test = (n) => Date.parse(n.created) < limit;
        break;
      }
      default:
        throw new BerthError('USAGE', `invalid filter "${key}"`);
    }
    byKey.set(key, [...(byKey.get(key) ?? []), test]);
  }
  return (n) => [...byKey.values()].every((tests) => tests.some((t) => t(n)));
}
