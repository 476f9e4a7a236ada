import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { diffDirectory, type TarOptions } from '../../archive/diff.js';
import { createContainer } from '../containers/create.js';
import { cleanupContainer, removeContainer, startContainer } from '../containers/lifecycle.js';
import { killContainer } from '../containers/kill.js';
import { containerPaths } from '../containers/paths.js';
import { waitForExitFile } from '../containers/state.js';
import { parseLogChunk } from '../../runtime/k8s-log.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';

export interface RunStep {
  image: string;
  argv: string[];
  /** The build args in scope and the image's Env (later wins): the process's environment. */
  env: string[];
  user: string;
  workdir: string;
  /** Absent: the default network. */
  network?: string;
  /** The instruction as written, for the error. */
  label: string;
  /** Where the command's output goes as it runs. */
  output?: (text: string) => void;
  /** Aborting kills the command (the build then fails and the container is removed). */
  signal?: AbortSignal;
  /** How the layer's mtimes are clamped or set (--timestamp, SOURCE_DATE_EPOCH). */
  times?: Pick<TarOptions, 'timestamp' | 'mtime'>;
  /** `-v` style binds and tmpfs targets (RUN --mount), and the mount points they leave, kept out of the layer. */
  volumes?: string[];
  tmpfs?: string[];
  exclude?: string[];
  /** `HOST:IP` entries for the container's /etc/hosts. */
  addHosts?: string[];
  /** `build --ulimit` and `--security-opt`, as `run` takes them. */
  ulimits?: string[];
  securityOpt?: string[];
}

/**
 * Files the runtime makes in the root as mount points (bind-mounted /etc files), which are not the
 * command's work and stay out of the layer, as buildah leaves them out.
 */
const MOUNT_STUBS = new Set(['etc/hosts', 'etc/resolv.conf', 'etc/hostname', 'run/.containerenv']);

/**
 * Runs one RUN command in a container of `image` and hands its changes (the upperdir) to `commit`
 * as a layer tar while the container still exists. A non-zero exit fails with the code and the
 * command's last output.
 */
export async function runStep<T>(store: Store, step: RunStep, commit: (layer: Readable) => Promise<T>): Promise<T> {
  const c = await createContainer(store, {
    image: step.image,
    entrypoint: JSON.stringify(step.argv),
    command: [],
    env: step.env,
    user: step.user,
    workdir: step.workdir || '/',
    createWorkdir: true,
    ...(step.network !== undefined ? { network: step.network } : {}),
    pull: 'never',
    volatile: true,
    ...(step.volumes?.length ? { volumes: step.volumes } : {}),
    ...(step.tmpfs?.length ? { tmpfs: step.tmpfs } : {}),
    ...(step.ulimits?.length ? { ulimits: step.ulimits } : {}),
    ...(step.securityOpt?.length ? { securityOpt: step.securityOpt } : {}),
    ...(step.addHosts?.length ? { addHosts: step.addHosts } : {}),
  });
  const stubs = new Set([...MOUNT_STUBS, ...(step.exclude ?? [])]);
  const paths = containerPaths(store, c.id);
  const abort = () => void killContainer(store, c.id, 'KILL').catch(() => undefined);
  try {
    step.signal?.throwIfAborted();
    // This build waits for the exit and cleans up itself; conmon's call stands by in case it is killed.
    await startContainer(store, c.id, { cleanupOwner: 'caller' });
    step.signal?.addEventListener('abort', abort);
    if (step.signal?.aborted) abort();
    let offset = 0;
    let rest = '';
    let tail = '';
    const pump = async () => {
      const fh = await open(paths.log, 'r').catch(() => undefined);
      if (!fh) return;
      try {
        for (;;) {
          const buf = Buffer.alloc(64 * 1024);
          const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          const { entries, rest: r } = parseLogChunk(rest + buf.subarray(0, bytesRead).toString('utf8'));
          rest = r;
          const text = entries.map((e) => e.text + (e.full ? '\n' : '')).join('');
          tail = (tail + text).slice(-4000);
          step.output?.(text);
        }
      } finally {
        await fh.close();
      }
    };
    let code: number | undefined;
    while (code === undefined) {
      code = await waitForExitFile(paths.exitFile, 100);
      await pump();
    }
    await cleanupContainer(store, c.id);
    step.signal?.throwIfAborted();
    if (code !== 0) {
      // The output went to the caller as it came; a quiet build shows its end with the error.
      const shown = step.output === undefined && tail ? `\n${tail.trimEnd()}` : '';
      throw new BerthError('BUILD_FAILED', `building at STEP "${step.label}": while running runtime: exit status ${code}${shown}`, { exitCode: code });
    }
    return await commit(diffDirectory(paths.overlay.upper, { ...step.times, exclude: (p) => stubs.has(p) }));
  } finally {
    step.signal?.removeEventListener('abort', abort);
    await removeContainer(store, c.id, { force: true, volumes: true }).catch(() => undefined);
  }
}
