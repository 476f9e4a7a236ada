import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { hostCapabilities } from '../../runtime/host.js';
import { resolveUser } from '../../runtime/user.js';
import { BerthError } from '../../util/errors.js';
import { mergeEnv } from './process-config.js';
import { containerPaths } from './paths.js';
import { rootReader } from './rootfs-path.js';

/** The OCI process of an exec: the fields berth changes, the rest as the container's own. */
export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  capabilities?: Record<string, string[]>;
  [k: string]: unknown;
}

export interface ExecOptions {
  env?: string[];
  envFile?: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
  tty?: boolean;
}

const ALL_CAPS_KEYS = ['bounding', 'effective', 'permitted'] as const;

/**
 * The process an exec runs: the container's own settings (env, user, caps, rlimits,
 * no-new-privs) with the caller's changes, for `exec` and the healthcheck alike.
 */
export async function execProcessSpec(store: Store, c: ContainerRecord, args: string[], opts: ExecOptions = {}): Promise<ProcessSpec> {
  if (c.state.status !== 'running') throw new BerthError('CONTAINER_STATE', `can only create exec sessions on running containers: container state improper`);
  const paths = containerPaths(store, c.id);
  const bundle = JSON.parse(await readFile(paths.config, 'utf8')) as { process: ProcessSpec };
  const proc: ProcessSpec = { ...bundle.process, args, terminal: Boolean(opts.tty) };
  proc.env = await mergeEnv(proc.env, opts.envFile ?? [], opts.env ?? [], { tty: Boolean(opts.tty), hostname: c.config.hostname });
  if (opts.workdir) proc.cwd = opts.workdir;
  if (opts.user) {
    const u = await resolveUser(rootReader(paths.overlay.merged), opts.user);
    proc.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
  }
  if (opts.privileged && proc.capabilities) {
    const { bounding } = await hostCapabilities();
    for (const k of ALL_CAPS_KEYS) proc.capabilities[k] = [...bounding];
  }
  return proc;
}

/** Writes the process file the runtime's `exec --process` reads, for the length of `fn`. */
export async function withProcessFile<T>(store: Store, c: ContainerRecord, proc: ProcessSpec, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(containerPaths(store, c.id).run, 'exec-'));
  try {
    const file = join(dir, 'process.json');
    await writeFile(file, JSON.stringify(proc));
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
