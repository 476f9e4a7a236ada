import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './cli.js';
import type { AsOptions, RootlessUser } from './rootless-user.js';

/**
 * podman's global options for rootless use here, as the issue names them: overlay (this kernel
 * mounts it natively in the user namespace; named so that podman never picks vfs for a store it
 * finds empty), cgroupfs (no systemd; cgroup v1 gives a rootless user no cgroups at all) and an
 * events file (no journald).
 */
export const ROOTLESS_PODMAN_ARGS = ['--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];

/**
 * containers.conf for it, the only one podman reads when CONTAINERS_CONF names it (nothing of
 * /etc/containers or the host's settings). Its default rlimits are capped at this machine's hard
 * limits (nofile 20000) as ../shared/podman-bats configures root podman here, where podman's own
 * defaults make crun fail with "setrlimit ...: Operation not permitted". Rootless podman 4.3 caps
 * them at the hard limits itself (measured: the same 20000 and 32768 without this file); the
 * explicit values keep the containers' limits equal to the root baseline's whatever the host has.
 */
export const ROOTLESS_CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

export interface RootlessPodman {
  /** The CONTAINERS_CONF file (in the user's home). */
  conf: string;
  /** `podman ARGS` as the user, with the options and configuration above (its default store, ~/.local/share/containers). */
  run(args: string[], opts?: AsOptions): Promise<RunResult>;
  /** Like run(), failing with podman's output when it exits non-zero. */
  ok(args: string[], opts?: AsOptions): Promise<RunResult>;
}

/** Writes the user's private containers.conf (~/.config/berth-test/containers.conf), owned by the user; returns its path. */
export function writeRootlessContainersConf(user: RootlessUser): string {
  const dir = join(user.home, '.config', 'berth-test');
  mkdirSync(dir, { recursive: true });
  for (const d of [join(user.home, '.config'), dir]) chownSync(d, user.uid, user.gid);
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, ROOTLESS_CONTAINERS_CONF);
  chownSync(conf, user.uid, user.gid);
  return conf;
}

/** Rootless podman (Debian's 4.3) as `user`. Its store and pause process go with the user's cleanup(). */
export function rootlessPodman(user: RootlessUser): RootlessPodman {
  const conf = writeRootlessContainersConf(user);
  const opts = (o: AsOptions): AsOptions => ({ ...o, env: { CONTAINERS_CONF: conf, ...o.env } });
  return {
    conf,
    run: (args, o = {}) => user.as(['podman', ...ROOTLESS_PODMAN_ARGS, ...args], opts(o)),
    ok: (args, o = {}) => user.ok(['podman', ...ROOTLESS_PODMAN_ARGS, ...args], opts(o)),
  };
}
