import { BerthError } from '../../util/errors.js';
import type { Store } from '../../store/store.js';
import type { CreateOptions } from '../containers/create.js';
import { createPod } from './create.js';
import { findPod, listPodRecords, type PodRecord } from './records.js';

/** podman's refusals for what only the pod's infra container can have. */
const SHARED_NETWORK = 'network cannot be configured when it is shared with a pod';

/**
 * `run/create --pod NAME|ID|new:NAME`: the container's options as a member of the pod. It joins the
 * infra's network namespace (berth's `container:ID`, which shares its /etc/hosts and resolv.conf)
 * and the other shared ones, takes the pod's hostname, and may not have ports or networks of its
 * own (they are the pod's, given at `pod create`). `new:NAME` makes the pod first, with the
 * container's ports, networks and hostname, as podman does.
 */
export async function podMemberOptions(store: Store, opts: CreateOptions): Promise<CreateOptions> {
  const wanted = opts.pod!;
  const networks = opts.network === undefined ? [] : Array.isArray(opts.network) ? opts.network : [opts.network];
  let pod: PodRecord | undefined;
  const { pod: _, ...rest } = opts;
  let member: CreateOptions = rest;
  if (wanted.startsWith('new:')) {
    const name = wanted.slice('new:'.length);
    if (findPod(await listPodRecords(store), name)) throw new BerthError('POD_EXISTS', `${name}: pod already exists`);
    // The container's --hostname names the new pod's host, whose UTS namespace it then joins, as podman's new: does.
    pod = await createPod(store, {
      name,
      ...(opts.hostname ? { hostname: opts.hostname } : {}),
      ...(opts.publish?.length ? { publish: opts.publish } : {}),
      ...(networks.length ? { network: networks } : {}),
      ...(opts.createCommand ? { createCommand: opts.createCommand } : {}),
      ...(opts.warn ? { warn: opts.warn } : {}),
    });
    const { publish: _p, network: _n, hostname: _h, ...others } = member;
    member = others;
  } else {
    pod = findPod(await listPodRecords(store), wanted);
    if (!pod) throw new BerthError('POD_UNKNOWN', `no pod with name or ID ${wanted} found: no such pod`);
  }
  // Nothing shared (`--share none`, `--infra=false`): a member only in name.
  const cgroup = pod.cgroupPath ? { cgroupParent: pod.cgroupPath } : {};
  if (!pod.infraId || pod.share.length === 0) return { ...member, podMembership: { id: pod.id, ...cgroup } };
  const sharesUts = pod.share.includes('uts');
  if (sharesUts && member.hostname)
    throw new BerthError('USAGE', 'invalid config provided: cannot set hostname when joining the pod UTS namespace: invalid configuration');
  const joins = pod.share.filter((ns): ns is 'ipc' | 'uts' | 'pid' => ns !== 'net');
  const membership = { id: pod.id, infraId: pod.infraId, joins, ...cgroup };
  const hostname = sharesUts ? { hostname: pod.hostname || pod.name } : {};
  // The network not shared (`--share ipc`): the member's own, with its own ports and networks; the
  // other namespaces are still the infra's.
  if (!pod.share.includes('net')) return { ...member, ...hostname, podMembership: membership };
  if (member.publish?.length || member.publishAll || member.expose?.length)
    throw new BerthError('USAGE', `invalid config provided: published or exposed ports must be defined when the pod is created: ${SHARED_NETWORK}`);
  if (networks.length && !wanted.startsWith('new:'))
    throw new BerthError('USAGE', `invalid config provided: networks must be defined when the pod is created: ${SHARED_NETWORK}`);
  return { ...member, network: `container:${pod.infraId}`, ...hostname, podMembership: membership };
}
