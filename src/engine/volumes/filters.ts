import type { VolumeRecord } from '../../store/volumes.js';
import { BerthError } from '../../util/errors.js';
import { nameFilterRegExp } from '../../util/name-filter.js';

/** One volume filter: the volume and whether a container uses it. */
export type VolumeFilter = (v: VolumeRecord, inUse: boolean) => boolean;

/** podman's volume filters (`KEY=VALUE`): name (a regular expression), label, label!, dangling, driver, anonymous; several must all match. */
export function volumeFilters(filters: readonly string[]): VolumeFilter[] {
  return filters.map((filter) => {
    const eq = filter.indexOf('=');
    const key = eq === -1 ? filter : filter.slice(0, eq);
    const value = eq === -1 ? '' : filter.slice(eq + 1);
    switch (key) {
      case 'name': {
        const re = nameFilterRegExp(value);
        return (v) => re.test(v.name);
      }
      case 'label': {
        const [k = '', want] = value.split(/=(.*)/s, 2) as [string?, string?];
        return (v) => k in v.labels && (want === undefined || v.labels[k] === want);
      }
      case 'label!': {
        const [k = '', want] = value.split(/=(.*)/s, 2) as [string?, string?];
        return (v) => !(k in v.labels && (want === undefined || v.labels[k] === want));
      }
      case 'dangling':
        if (!['true', 'false', '1', '0'].includes(value)) throw new BerthError('USAGE', `invalid dangling filter "${value}": must be true or false`);
        return (_v, inUse) => inUse === (value === 'false' || value === '0');
      case 'driver':
        return () => value === 'local';
      case 'anonymous':
        return (v) => v.anonymous === (value === 'true' || value === '1');
      default:
        throw new BerthError('USAGE', `invalid volume filter "${key}": supported are name, label, dangling, driver and anonymous`);
    }
  });
}
