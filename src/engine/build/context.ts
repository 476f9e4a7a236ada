import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { PatternMatcher, readDockerignore } from '../../dockerfile/index.js';
import { BerthError, errnoCode } from '../../util/errors.js';

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
export async function loadContext(dir: string, dockerfile: string, ignoreFile?: string): Promise<BuildContext> {
  let patterns: string[] = [];
  // --ignorefile names the one file to read, and it must be there.
  const candidates =
    ignoreFile !== undefined
      ? [ignoreFile]
      : [
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
      if (ignoreFile !== undefined) throw new BerthError('USAGE', `--ignorefile ${ignoreFile}: no such file`, { cause: e });
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
        if (excluded && !matcher.exceptionMayMatchBelow(path)) continue;
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
        out += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
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
  if (!ctx.included.has(rel))
    throw new BerthError('IO', `building: checking on sources under "${ctx.dir}": copier: stat: "/${rel}": no such file or directory`);
  return [{ path: join(ctx.dir, rel), rel, isDir: false }];
}

/** One entry of a COPY source: where it is, where it lands relative to the source, what it is. */
export interface SourceEntry {
  path: string;
  rel: string;
  st: Stats;
}

/**
 * Every entry under a source (itself first, names sorted depth first), filtered by the context when
 * one is given. File system calls are synchronous: a context can hold tens of thousands of small
 * files, and one thread-pool round trip per call costs more than the call itself.
 */
export async function walkSource(source: CopySource, ctx?: BuildContext): Promise<SourceEntry[]> {
  const top = lstatSync(source.path);
  const out: SourceEntry[] = [{ path: source.path, rel: '', st: top }];
  if (!top.isDirectory()) return out;
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (ctx && !ctx.included.has(source.rel === '' ? r : `${source.rel}/${r}`)) continue;
      const full = join(dir, name);
      const st = lstatSync(full);
      out.push({ path: full, rel: r, st });
      if (st.isDirectory()) walk(full, r);
    }
  };
  walk(source.path, '');
  return out;
}

const HASH_CHUNK = 1 << 20;

/** Files up to this size are kept in memory from the hash to the copy, within KEEP_BUDGET in all. */
const KEEP_FILE = 1 << 20;
const KEEP_BUDGET = 64 << 20;

/**
 * What hashing the sources read, for the copy to use: each source's entries (the walk is not done
 * again) and the content of the small files (not read again), by host path.
 */
export interface WalkedSources {
  entries: Map<CopySource, SourceEntry[]>;
  contents: Map<string, Buffer>;
}

/**
 * What a COPY from the context depends on: each entry's path, type, mode and content (or link
 * target, or the first name of a hard-linked file), never its times or owner (a COPY makes files
 * root's unless --chown says otherwise). Returns the digest and what was walked and read (the small
 * files' content only unless `keep` is false).
 */
export async function hashSources(sources: CopySource[], ctx: BuildContext, opts: { keep?: boolean } = {}): Promise<{ digest: string; walked: WalkedSources }> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(HASH_CHUNK);
  const walked: WalkedSources = { entries: new Map(), contents: new Map() };
  let kept = 0;
  // A second name of a file is copied as a hard link to the first: that is part of the result.
  const firstNames = new Map<string, string>();
  for (const s of sources) {
    const entries = await walkSource(s, ctx);
    walked.entries.set(s, entries);
    for (const e of entries) {
      h.update(`${s.rel}\0${e.rel}\0${e.st.mode.toString(8)}\0`);
      const linkKey = e.st.isFile() && e.st.nlink > 1 ? `${e.st.dev}:${e.st.ino}` : undefined;
      const first = linkKey === undefined ? undefined : firstNames.get(linkKey);
      if (linkKey !== undefined && first === undefined) firstNames.set(linkKey, `${s.rel}\0${e.rel}`);
      if (first !== undefined) h.update(`hardlink:${first}\0`);
      else if (e.st.isSymbolicLink()) h.update(`link:${readlinkSync(e.path)}\0`);
      else if (e.st.isFile()) {
        h.update(`file:${e.st.size}:`);
        if (opts.keep !== false && e.st.size <= KEEP_FILE && kept + e.st.size <= KEEP_BUDGET) {
          const content = readSmallFile(e.path, e.st.size);
          h.update(content);
          walked.contents.set(e.path, content);
          kept += content.length;
        } else hashFile(h, e.path, buf);
        h.update('\0');
      }
    }
    // Let other stages' output through between sources.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { digest: h.digest('hex'), walked };
}

/** A file's bytes, read whole (up to `size`: a file that shrank gives what it has). */
function readSmallFile(path: string, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let n = 0;
  try {
    for (let r; n < size && (r = readSync(fd, buf, n, size - n, null)) > 0; ) n += r;
  } finally {
    closeSync(fd);
  }
  return n === size ? buf : buf.subarray(0, n);
}

function hashFile(h: Hash, path: string, buf: Buffer): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
