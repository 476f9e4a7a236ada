import { existsSync, readFileSync, statSync } from 'node:fs';
import { BerthError } from '../util/errors.js';
import { rootlessIds } from '../util/rootless.js';

let delegated: boolean | undefined;

/**
 * Whether a rootless user may manage cgroups here: only on the unified (v2) hierarchy, in a cgroup
 * delegated to the user (its `cgroup.procs` the user's own, as systemd's user@.service makes it).
 * On cgroup v1 a user never can, so rootless containers run without a cgroup of their own and
 * without resource limits, as rootless podman on v1 does.
 */
export function rootlessCgroupsDelegated(): boolean {
  if (delegated !== undefined) return delegated;
  delegated = false;
  const ids = rootlessIds();
  if (!ids || !existsSync('/sys/fs/cgroup/cgroup.controllers')) return delegated;
  try {
    const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
    if (own !== undefined) delegated = statSync(`/sys/fs/cgroup${own}/cgroup.procs`).uid === ids.uid;
  } catch {
    delegated = false;
  }
  return delegated;
}

/** Whether the runtime must leave cgroups alone: rootless without delegation. */
export const cgroupsDisabled = (): boolean => rootlessIds() !== undefined && !rootlessCgroupsDelegated();

/**
 * A rootless container asking for resource limits where they cannot be had: refused in one line
 * naming why, rather than run without the limit the user asked for.
 */
export function refuseLimitsWithoutCgroups(flags: string[]): void {
  if (!flags.length || !cgroupsDisabled()) return;
  const why = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? "this user's cgroup is not delegated to it (systemd's user@.service delegates one)"
    : 'this host has cgroup v1, where a rootless user cannot set limits (they need cgroup v2 with delegation)';
  throw new BerthError('USAGE', `${flags.join(', ')}: resource limits are not available rootless here: ${why}`);
}
