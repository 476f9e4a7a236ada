import { createHash } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Instruction } from '../dockerfile/index.js';
import type { Store } from '../store/store.js';
import { BerthError } from '../util/errors.js';

/** What a RUN's `--mount` flags ask of its container, and what they add to the step's key. */
export interface RunMounts {
  /** Binds, as `-v SRC:DST[:ro]`. */
  volumes: string[];
  tmpfs: string[];
  /** Mount points (relative, no leading slash) the runtime may leave in the upperdir: not the command's work. */
  stubs: string[];
  /** Where things are mounted, never what they hold: a secret or a cache changes no step's key. */
  key: string;
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
export async function runMounts(store: Store, ins: Instruction, expand: (w: string) => string, secrets: ReadonlyMap<string, string>): Promise<RunMounts> {
  const out: RunMounts = { volumes: [], tmpfs: [], stubs: [], key: '' };
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
      default:
        throw new BerthError('DOCKERFILE_INVALID', `RUN --mount=type=${type} is not supported yet (line ${ins.startLine})`);
    }
  }
  out.key = keys.join('\n');
  return out;
}
