import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { PatternMatcher, readDockerignore } from '../dockerfile/index.js';
import { BerthError, errnoCode } from '../util/errors.js';

/**
 * The build context: a directory, less what .dockerignore excludes. `included` holds every
 * relative path (slash-separated, no leading `./`) a COPY may see; a directory is listed when it
 * is not excluded itself or holds something that is not.
 */
export interface BuildContext {
  dir: string;
  included: Set<string>;
}

/**
 * Reads the ignore file: `<Dockerfile>.containerignore` or `.dockerignore` next to the Dockerfile
 * wins over the context's `.containerignore`, then `.dockerignore`, as buildah chooses.
 */
export async function loadContext(dir: string, dockerfile: string): Promise<BuildContext> {
  let patterns: string[] = [];
  const candidates = [
    join(dirname(dockerfile), `${basename(dockerfile)}.containerignore`),
    join(dirname(dockerfile), `${basename(dockerfile)}.dockerignore`),
    join(dir, '.containerignore'),
    join(dir, '.dockerignore'),
  ];
  for (const candidate of candidates) {
    try {
      patterns = readDockerignore(await readFile(candidate, 'utf8'));
      break;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }
  const matcher = new PatternMatcher(patterns);
  const included = new Set<string>();
  const walk = async (rel: string): Promise<boolean> => {
    const entries = await readdir(rel === '' ? dir : join(dir, rel), { withFileTypes: true });
    let any = false;
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      const excluded = matcher.patternCount > 0 && matcher.matchesOrParentMatches(path);
      if (e.isDirectory()) {
        if (excluded && !matcher.hasExclusions) continue;
        const inside = await walk(path);
        if (!excluded || inside) {
          included.add(path);
          any = true;
        }
      } else if (!excluded) {
        included.add(path);
        any = true;
      }
    }
    return any;
  };
  await walk('');
  return { dir, included };
}

/** One thing a COPY takes: a file, link or directory under a root, and where its content lands. */
export interface CopySource {
  /** Absolute path on the host. */
  path: string;
  /** Relative to its root, slash-separated ('' for the root itself). */
  rel: string;
  isDir: boolean;
  /** The name it takes in a destination directory (default: the last component of `path`). */
  name?: string;
  /** --parents: the path kept below the destination (relative to the `/./` pivot, or the root). */
  keep?: string;
  /** ADD never unpacks this one (a downloaded URL). */
  noExtract?: boolean;
}

const GLOB = /[*?[\\]/;

function globRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        out += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (ch === '\\' && i + 1 < pattern.length) out += `\\${pattern[++i]}`;
    else out += ch.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

/** A source path cleaned to a relative one: `./a/../b/` becomes `b`, `/` and `.` become ''. */
function cleanRel(src: string): string {
  const cleaned = posix.normalize(`/${src}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return cleaned === '.' ? '' : cleaned;
}

/**
 * The context's entries a COPY source names: the path itself, or every path its glob matches.
 * Excluded paths do not exist for a COPY. Fails as BuildKit does when nothing matches.
 */
export function contextSources(ctx: BuildContext, src: string): CopySource[] {
  const rel = cleanRel(src);
  if (rel === '') return [{ path: ctx.dir, rel: '', isDir: true }];
  if (GLOB.test(rel)) {
    const re = globRegExp(rel);
    const out = [...ctx.included].filter((p) => re.test(p)).sort();
    if (out.length === 0) throw new BerthError('IO', `building: no source files were specified: "${src}" matches nothing in the context`);
    return out.map((p) => ({ path: join(ctx.dir, p), rel: p, isDir: false }));
  }
  if (!ctx.included.has(rel)) throw new BerthError('IO', `building: checking on sources under "${ctx.dir}": copier: stat: "/${rel}": no such file or directory`);
  return [{ path: join(ctx.dir, rel), rel, isDir: false }];
}

/** Every entry under a source (itself first), filtered by the context when one is given. */
export async function walkSource(source: CopySource, ctx?: BuildContext): Promise<{ path: string; rel: string }[]> {
  const st = await lstat(source.path);
  if (!st.isDirectory()) return [{ path: source.path, rel: '' }];
  const out: { path: string; rel: string }[] = [{ path: source.path, rel: '' }];
  const walk = async (dir: string, rel: string) => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const full = join(dir, name);
      if (ctx) {
        const ctxRel = source.rel === '' ? r : `${source.rel}/${r}`;
        if (!ctx.included.has(ctxRel)) continue;
      }
      out.push({ path: full, rel: r });
      if ((await lstat(full)).isDirectory()) await walk(full, r);
    }
  };
  await walk(source.path, '');
  return out;
}

/**
 * What a COPY from the context depends on: each entry's path, type, mode and content (or link
 * target), never its times or owner (a COPY makes files root's unless --chown says otherwise).
 */
export async function hashSources(sources: CopySource[], ctx: BuildContext): Promise<string> {
  const h = createHash('sha256');
  for (const s of sources) {
    for (const e of await walkSource(s, ctx)) {
      const st = await lstat(e.path);
      h.update(`${s.rel}\0${e.rel}\0${st.mode.toString(8)}\0`);
      if (st.isSymbolicLink()) h.update(`link:${await readlink(e.path)}\0`);
      else if (st.isFile()) {
        h.update(`file:${st.size}:`);
        for await (const chunk of createReadStream(e.path)) h.update(chunk as Buffer);
        h.update('\0');
      }
    }
  }
  return h.digest('hex');
}
