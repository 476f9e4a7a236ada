import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { getContainer, runtimeFor } from '../../engine/containers/lifecycle.js';
import { mergeEnv } from '../../engine/containers/create.js';
import { containerPaths } from '../../engine/containers/paths.js';
import { withStore } from '../../engine/engine.js';
import { hostCapabilities } from '../../runtime/host.js';
import { resolveUser } from '../../runtime/user.js';
import { rootReader } from '../../engine/containers/rootfs-path.js';
import { BerthError, ExitCode } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
}

interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  capabilities?: Record<string, string[]>;
  [k: string]: unknown;
}

const ALL_CAPS_KEYS = ['bounding', 'effective', 'permitted'] as const;

/**
 * `berth exec`: the container's own process settings (env, user, caps, rlimits, no-new-privs)
 * with the flags' changes, run by the runtime inside the running container. Exits with the
 * process's code; 126/127 when it cannot be run or is not found, as podman does.
 */
export async function run(g: GlobalOptions, name: string, command: string[], f: ExecFlags): Promise<number> {
  return withStore(engineOptions(g), async (store) => {
    const c = await getContainer(store, name);
    if (c.state.status !== 'running') throw new BerthError('CONTAINER_STATE', `can only create exec sessions on running containers: container state improper`);
    const paths = containerPaths(store, c.id);
    const bundle = JSON.parse(await readFile(paths.config, 'utf8')) as { process: ProcessSpec };
    const proc: ProcessSpec = { ...bundle.process, args: command, terminal: Boolean(f.tty) };
    proc.env = await mergeEnv(proc.env, f.envFile, f.env, { tty: Boolean(f.tty), hostname: c.config.hostname });
    if (f.workdir) proc.cwd = f.workdir;
    if (f.user) {
      const u = await resolveUser(rootReader(paths.overlay.merged), f.user);
      proc.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
    }
    if (f.privileged && proc.capabilities) {
      const { bounding } = await hostCapabilities();
      for (const k of ALL_CAPS_KEYS) proc.capabilities[k] = [...bounding];
    }
    delete proc.terminal;
    const dir = await mkdtemp(join(paths.run, 'exec-'));
    try {
      const procFile = join(dir, 'process.json');
      await writeFile(procFile, JSON.stringify({ ...proc, terminal: Boolean(f.tty) }));
      const runtime = runtimeFor(store, c);
      const child = runtime.execProcess(c.id, procFile, {
        tty: false,
        detach: Boolean(f.detach),
        stdio: f.detach ? 'ignore' : [f.interactive || f.tty ? 'inherit' : 'ignore', 'inherit', 'pipe'],
      });
      let errText = '';
      child.stderr?.on('data', (d: Buffer) => {
        errText += d.toString('utf8');
        if (errText.length > 1 << 16) errText = errText.slice(-4096);
        process.stderr.write(d);
      });
      const code = await new Promise<number>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (status, signal) => resolve(status ?? (signal ? 128 + 15 : 1)));
      });
      if (code === 255 || (code === 1 && /runc|exec failed|OCI runtime/.test(errText))) {
        if (/executable file .* not found|no such file or directory/i.test(errText)) return ExitCode.notFound;
        if (/permission denied/i.test(errText)) return ExitCode.cannotInvoke;
      }
      if (f.detach && code === 0) process.stdout.write(`${c.id}\n`);
      return code;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
