import { createHash } from 'node:crypto';
import { access, lstat, mkdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Instruction } from '../../dockerfile/index.js';
import { resolveInRoot } from '../containers/rootfs-path.js';
import { mountOverlay, unmountOverlay } from '../../store/overlay.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { contextSources, hashSources, type BuildContext } from './context.js';
import { copyInto } from './copy.js';
import { imageDiffDirs } from './output.js';

/** What a RUN's `--mount` flags ask of its container, and what they add to the step's key. */
export interface RunMounts {
  /** Binds, as `-v SRC:DST[:ro]`. */
  volumes: string[];
  tmpfs: string[];
  /** Mount points (relative, no leading slash) the runtime may leave in the upperdir: not the command's work. */
  stubs: string[];
  /**
   * Where things are mounted, never what a secret or a cache holds; a bind of the context adds the
   * bound content's hash, a bind of a stage or image that image's ID.
   */
  key: string;
  /** Makes the bind mounts' sources (only when the step runs, not on a cache hit) and adds them to `volumes`. */
  prepare(): Promise<void>;
  /** Unmounts and removes what prepare made. */
  cleanup(): Promise<void>;
}

/** Where a `type=bind` mount's `from=` points: the context, or an image (a stage's result or a named image). */
export interface BindSources {
  ctx: BuildContext;
  /** The image ID of a stage name/index or an image reference. */
  image(from: string): Promise<string>;
}

function fieldsOf(spec: string): Map<string, string> {
  return new Map(
    spec.split(',').map((kv) => {
      const eq = kv.indexOf('=');
      return [eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? 'true' : kv.slice(eq + 1)] as const;
    }),
  );
}

/**
 * `RUN --mount=type=secret,id=ID[,target=PATH]` (the `--secret` file, read-only, at
 * /run/secrets/ID by default), `type=cache,target=DIR[,id=ID]` (a directory kept in the store
 * between builds) and `type=tmpfs,target=DIR`. None of them ends up in the layer.
 */
export async function runMounts(
  store: Store,
  ins: Instruction,
  expand: (w: string) => string,
  secrets: ReadonlyMap<string, string>,
  binds: BindSources,
): Promise<RunMounts> {
  const prepares: (() => Promise<void>)[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const out: RunMounts = {
    volumes: [],
    tmpfs: [],
    stubs: [],
    key: '',
    prepare: async () => {
      for (const p of prepares) await p();
    },
    cleanup: async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    },
  };
  const keys: string[] = [];
  for (const flag of ins.flags.filter((f) => f.startsWith('--mount='))) {
    const f = fieldsOf(expand(flag.slice('--mount='.length)));
    const type = f.get('type') ?? 'bind';
    const targetOf = (fallback?: string) => {
      const t = f.get('target') ?? f.get('dst') ?? f.get('destination') ?? fallback;
      if (!t) throw new BerthError('DOCKERFILE_INVALID', `RUN --mount=type=${type} needs target= (line ${ins.startLine})`);
      return posix.normalize(posix.isAbsolute(t) ? t : `/${t}`);
    };
    switch (type) {
      case 'secret': {
        const id = f.get('id') ?? posix.basename(f.get('target') ?? '');
        const target = targetOf(`/run/secrets/${id}`);
        const src = secrets.get(id);
        if (src === undefined) {
          if (f.get('required') === 'true') throw new BerthError('USAGE', `secret ${id} is required but was not given with --secret (line ${ins.startLine})`);
          continue;
        }
        await access(src).catch((e: unknown) => {
          throw new BerthError('USAGE', `secret ${id}: ${src}: ${(e as Error).message}`, { cause: e });
        });
        out.volumes.push(`${src}:${target}:ro`);
        out.stubs.push(target.slice(1));
        if (posix.dirname(target) === '/run/secrets') out.stubs.push('run/secrets');
        keys.push(`secret ${id} ${target}`);
        break;
      }
      case 'cache': {
        const target = targetOf();
        const id = f.get('id') ?? target;
        const dir = join(store.root, 'build-mount-cache', createHash('sha256').update(id).digest('hex').slice(0, 32));
        await mkdir(dir, { recursive: true });
        out.volumes.push(`${dir}:${target}${f.get('readonly') === 'true' || f.get('ro') === 'true' ? ':ro' : ''}`);
        keys.push(`cache ${target}`);
        break;
      }
      case 'tmpfs': {
        const target = targetOf();
        out.tmpfs.push(target);
        keys.push(`tmpfs ${target}`);
        break;
      }
      case 'bind': {
        const target = targetOf();
        const source = f.get('source') ?? f.get('src') ?? '';
        const rw = ['rw', 'readwrite'].some((k) => f.get(k) === 'true');
        const from = f.get('from');
        const ro = rw ? '' : ':ro';
        if (from === undefined || from === '') {
          // The context less .dockerignore, copied to temp space: a rw mount's writes go nowhere.
          const sources = contextSources(binds.ctx, source);
          keys.push(`bind ${target}${ro} context ${JSON.stringify(source)} ${(await hashSources(sources, binds.ctx, { keep: false })).digest}`);
          prepares.push(async () => {
            const dir = await store.tmp.make('build-bind');
            cleanups.push(() => rm(dir, { recursive: true, force: true }));
            const root = join(dir, 'root');
            await mkdir(root);
            const single = sources.length === 1 && !(await lstat(sources[0]!.path)).isDirectory();
            await copyInto(root, { sources, ctx: binds.ctx, dest: single ? '/bound' : '/' });
            out.volumes.push(`${single ? join(root, 'bound') : root}:${target}${ro}`);
          });
        } else {
          const image = await binds.image(from);
          keys.push(`bind ${target}${ro} image ${image} ${JSON.stringify(source)}`);
          prepares.push(async () => {
            const dir = await store.tmp.make('build-bind');
            cleanups.push(() => rm(dir, { recursive: true, force: true }));
            const dirs = { upper: join(dir, 'diff'), work: join(dir, 'work'), merged: join(dir, 'merged') };
            await mountOverlay(store.root, await imageDiffDirs(store, image), dirs);
            cleanups.push(() => unmountOverlay(dirs));
            const path = await resolveInRoot(dirs.merged, posix.normalize(`/${source}`));
            await lstat(path).catch((e: unknown) => {
              throw new BerthError('IO', `RUN --mount=type=bind: "${source}" does not exist in ${from} (line ${ins.startLine})`, { cause: e });
            });
            out.volumes.push(`${path}:${target}${ro}`);
          });
        }
        out.stubs.push(target.slice(1));
        break;
      }
      default:
        throw new BerthError('DOCKERFILE_INVALID', `RUN --mount=type=${type} is not supported yet (line ${ins.startLine})`);
    }
  }
  out.key = keys.join('\n');
  return out;
}
