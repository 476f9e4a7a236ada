import type { ContainerRecord } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';
import { publishedPorts } from './inspect-network.js';
import { exposedPortsOf } from './network-flags.js';
import { findContainer } from './lookup.js';

/**
 * podman's and Docker's `ps --filter`s. `health`, `before` and `since` need more than the one
 * record: the caller's healthcheck verdicts, and the containers the references name.
 */
export interface FilterContext {
  /** The healthcheck's last verdict of a running container that has one (starting, healthy, unhealthy). */
  health?: (c: ContainerRecord) => string | undefined;
  /** `pod=`: the pods by ID and name (without them a pod is matched by its ID or a prefix of it). */
  pods?: readonly { id: string; name: string }[];
  /** Where `before=` and `since=` find the container they name (default: the list filtered). */
  all?: readonly ContainerRecord[];
}

const HEALTH = new Set(['starting', 'healthy', 'unhealthy', 'none']);

/** `80`, `80/tcp`, `8000-8080/udp`: whether one of `ports` (with its protocol) falls in it. */
function portMatches(value: string, ports: { port: number; protocol: string }[]): boolean {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(value);
  if (!m) throw new BerthError('USAGE', `invalid port filter "${value}": expected PORT[-END][/PROTOCOL]`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  const proto = m[3] ?? 'tcp';
  return ports.some((p) => p.port >= start && p.port <= end && p.protocol === proto);
}

function mappedPorts(c: ContainerRecord, side: 'host' | 'container'): { port: number; protocol: string }[] {
  return publishedPorts(c).flatMap((m) =>
    Array.from({ length: Math.max(1, m.range) }, (_, i) => ({ port: (side === 'host' ? m.host_port : m.container_port) + i, protocol: m.protocol })),
  );
}

/** podman's restart-policy filter words: `none` is a container that never set one, which berth records as `no`. */
const RESTART_POLICIES = new Set(['always', 'on-failure', 'unless-stopped', 'no', 'none']);

function matches(c: ContainerRecord, filter: string, ctx: FilterContext, list: readonly ContainerRecord[]): boolean {
  const eq = filter.indexOf('=');
  if (eq <= 0) throw new BerthError('USAGE', `invalid filter "${filter}": expected KEY=VALUE`);
  const key = filter.slice(0, eq);
  const value = filter.slice(eq + 1);
  switch (key) {
    case 'status': {
      const known = ['created', 'running', 'paused', 'exited', 'stopping', 'removing', 'stopped', 'unknown', 'restarting', 'dead'];
      if (!known.includes(value)) throw new BerthError('USAGE', `${value} is not a valid status`);
      return c.state.status === (value === 'stopped' ? 'exited' : value);
    }
    case 'name':
      // Docker's names begin with a slash (`^/web$`): either form matches.
      return new RegExp(value).test(c.name) || new RegExp(value).test(`/${c.name}`);
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
    case 'network':
      return Object.keys(c.config.network.networks ?? {}).includes(value) || (c.config.network.mode !== 'bridge' && c.config.network.mode === value);
    case 'health':
      return (ctx.health?.(c) ?? 'none') === value;
    case 'before':
    case 'since': {
      const ref = findContainer(ctx.all ?? list, value);
      if (!ref) throw new BerthError('CONTAINER_UNKNOWN', `no such container ${value}`);
      const [t, r] = [Date.parse(c.created), Date.parse(ref.created)];
      return key === 'before' ? t < r : t > r;
    }
    case 'volume':
      return (c.config.mountSpecs ?? []).some(
        (m) => m.destination === value || (m.type === 'volume' && m.name === value) || (m.type === 'bind' && m.source === value),
      );
    case 'pod': {
      const podId = c.config.pod?.id;
      if (!podId) return false;
      const name = ctx.pods?.find((p) => p.id === podId)?.name;
      return name === value || podId.startsWith(value);
    }
    case 'publish':
      return portMatches(value, mappedPorts(c, 'host'));
    case 'expose':
      return portMatches(value, [...mappedPorts(c, 'container'), ...exposedPortsOf(c).map((e) => ({ port: e.port, protocol: e.protocol }))]);
    default:
      throw new BerthError('USAGE', `invalid filter "${key}": supported are ${[...KEYS].join(', ')}`);
  }
}

/**
 * The containers `--filter` keeps (ps, start, the API's list): as podman, filters on one key match
 * any of their values, but labels must all match; different keys must all match.
 */
export function filterContainers(list: ContainerRecord[], filters: readonly string[], ctx: FilterContext = {}): ContainerRecord[] {
  // Every filter is checked up front, even with no container to test it on, as podman refuses them.
  for (const f of filters) checkFilter(f);
  const byKey = new Map<string, string[]>();
  for (const x of filters) {
    const key = x.slice(0, Math.max(0, x.indexOf('=')));
    byKey.set(key, [...(byKey.get(key) ?? []), x]);
  }
  const all = list;
  for (const [key, group] of byKey) {
    // Labels are the exception, in podman and Docker alike: every one given must match (compose
    // tells its `run` containers apart by com.docker.compose.oneoff=False beside the project's label).
    const combine = key === 'label' ? 'every' : 'some';
    list = list.filter((c) => group[combine]((filter) => matches(c, filter, ctx, all)));
  }
  return list;
}

const KEYS = new Set([
  'status',
  'name',
  'id',
  'ancestor',
  'label',
  'exited',
  'restart-policy',
  'network',
  'health',
  'before',
  'since',
  'volume',
  'publish',
  'expose',
  'pod',
]);

function checkFilter(filter: string): void {
  const eq = filter.indexOf('=');
  if (eq <= 0) throw new BerthError('USAGE', `invalid filter "${filter}": expected KEY=VALUE`);
  const key = filter.slice(0, eq);
  if (!KEYS.has(key)) throw new BerthError('USAGE', `invalid filter "${key}": supported are ${[...KEYS].join(', ')}`);
  const value = filter.slice(eq + 1);
  if (key === 'restart-policy' && !RESTART_POLICIES.has(value)) throw new BerthError('USAGE', `${value} invalid restart policy`);
  if (key === 'health' && !HEALTH.has(value)) throw new BerthError('USAGE', `unrecognized filter value for health: ${value}`);
}
