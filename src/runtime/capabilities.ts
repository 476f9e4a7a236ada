import { BerthError } from '../util/errors.js';

/** Every capability the kernel knows (capability.h, 6.x), in its order. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** podman's default_capabilities (containers.conf since podman 4.0). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
];

/** `net_admin`, `NET_ADMIN` and `CAP_NET_ADMIN` all name CAP_NET_ADMIN; `ALL` stays `ALL`. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const cap = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITIES.includes(cap)) throw new BerthError('USAGE', `unknown capability "${name}"`);
  return cap;
}

export function parseCapabilities(list: string[]): string[] {
  return [
    ...new Set(
      list
        .flatMap((l) => l.split(','))
        .filter((l) => l.trim() !== '')
        .map(normalizeCapability),
    ),
  ];
}

/**
 * The capability set a container's process gets, as podman computes it: privileged means every one
 * the host lets berth have (`available`); otherwise the defaults with --cap-drop applied, then
 * --cap-add (ALL meaning every available one). Asking for one the host withholds is an error.
 */
export function effectiveCapabilities(
  opts: { privileged: boolean; capAdd: string[]; capDrop: string[] },
  available: readonly string[] = ALL_CAPABILITIES,
): string[] {
  if (opts.privileged) return ALL_CAPABILITIES.filter((c) => available.includes(c));
  for (const cap of opts.capAdd) {
    if (cap !== 'ALL' && !available.includes(cap))
      throw new BerthError('USAGE', `--cap-add ${cap}: this host does not give berth that capability, so no container can have it`);
  }
  const drop = new Set(opts.capDrop);
  const add = new Set(opts.capAdd);
  for (const cap of add) {
    if (cap !== 'ALL' && drop.has(cap)) throw new BerthError('USAGE', `capability "${cap}" cannot be both added and dropped`);
  }
  let caps = drop.has('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.has(c));
  if (add.has('ALL')) caps = ALL_CAPABILITIES.filter((c) => available.includes(c) && (!drop.has(c) || drop.has('ALL')));
  else for (const cap of add) if (!caps.includes(cap)) caps.push(cap);
  return caps;
}
