import type { ContainerRecord } from '../engine/containers/index.js';
import { BerthError } from '../util/errors.js';

/** podman's restart-policy filter words: `none` is a container that never set one, which berth records as `no`. */
const RESTART_POLICIES = new Set(['always', 'on-failure', 'unless-stopped', 'no', 'none']);

function matches(c: ContainerRecord, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq <= 0) throw new BerthError('USAGE', `invalid filter "${filter}": expected KEY=VALUE`);
  const key = filter.slice(0, eq);
  const value = filter.slice(eq + 1);
  switch (key) {
    case 'status': {
      const known = ['created', 'running', 'paused', 'exited', 'stopping', 'removing', 'stopped', 'unknown'];
      if (!known.includes(value)) throw new BerthError('USAGE', `${value} is not a valid status`);
      return c.state.status === (value === 'stopped' ? 'exited' : value);
    }
    case 'name':
      return new RegExp(value).test(c.name);
    case 'id':
      // As podman: hex alone is a prefix (either case), anything else a regular expression.
      return /^[0-9a-f]+$/i.test(value) ? c.id.startsWith(value.toLowerCase()) : new RegExp(value).test(c.id);
    case 'ancestor':
      return (
        c.imageName === value ||
        c.imageName.startsWith(`${value}:`) ||
        c.imageName.endsWith(`/${value}`) ||
        c.imageName.includes(`/${value}:`) ||
        c.image.replace(/^sha256:/, '').startsWith(value.replace(/^sha256:/, ''))
      );
    case 'label': {
      const [k, v] = value.split(/=(.*)/s, 2) as [string, string?];
      return k in c.config.labels && (v === undefined || c.config.labels[k] === v);
    }
    case 'exited':
      return c.state.status === 'exited' && String(c.state.exitCode) === value;
    case 'restart-policy':
      if (!RESTART_POLICIES.has(value)) throw new BerthError('USAGE', `${value} invalid restart policy`);
      return c.config.restartPolicy.name === (value === 'none' ? 'no' : value);
    default:
      throw new BerthError('USAGE', `invalid filter "${key}": supported are status, name, id, ancestor, label, exited, restart-policy`);
  }
}

/**
 * The containers `--filter` keeps (ps, start): as podman, filters on one key match any of their
 * values; different keys must all match.
 */
export function filterContainers(list: ContainerRecord[], filters: readonly string[]): ContainerRecord[] {
  // Every filter is checked up front, even with no container to test it on, as podman refuses them.
  for (const f of filters) checkFilter(f);
  const byKey = new Map<string, string[]>();
  for (const x of filters) {
    const key = x.slice(0, Math.max(0, x.indexOf('=')));
    byKey.set(key, [...(byKey.get(key) ?? []), x]);
  }
  for (const group of byKey.values()) list = list.filter((c) => group.some((filter) => matches(c, filter)));
  return list;
}

const KEYS = new Set(['status', 'name', 'id', 'ancestor', 'label', 'exited', 'restart-policy']);

function checkFilter(filter: string): void {
  const eq = filter.indexOf('=');
  if (eq <= 0) throw new BerthError('USAGE', `invalid filter "${filter}": expected KEY=VALUE`);
  const key = filter.slice(0, eq);
  if (!KEYS.has(key)) throw new BerthError('USAGE', `invalid filter "${key}": supported are ${[...KEYS].join(', ')}`);
  const value = filter.slice(eq + 1);
  if (key === 'restart-policy' && !RESTART_POLICIES.has(value)) throw new BerthError('USAGE', `${value} invalid restart policy`);
}
