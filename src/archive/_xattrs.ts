import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { BerthError, errnoCode } from '../util/errors.js';
import { lastLine, run } from './_process.js';
import { quoteAttrText, unquoteAttrText } from './_paths.js';

/**
 * Node has no getxattr/setxattr: berth reads all extended attributes of a tree with one getfattr
 * run and sets all those of a layer with one setfattr run, never following symlinks (-h).
 */

/** Relative path ("" is the root) to attribute name to value. */
export type XattrTable = Map<string, Map<string, Buffer>>;

/** Attributes overlayfs keeps for itself: never taken from a tar nor written into one. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

/** Failures setfattr may have on a file system or as a user that cannot hold some attributes. */
const TOLERABLE = /: (Operation not supported|Operation not permitted)$/;

/**
 * Sets the attributes with one `setfattr -h --restore=-` run in `root`. Every path's parents must be
 * real directories (the caller checked). With `tolerant`, attributes the file system or the user
 * cannot hold (ENOTSUP, EPERM) are skipped, as containers/storage does; any other failure rejects.
 */
export async function setXattrs(root: string, table: XattrTable, tolerant: boolean): Promise<void> {
  if (table.size === 0) return;
  const lines: string[] = [];
  for (const [rel, attrs] of table) {
    if (attrs.size === 0) continue;
    lines.push(`# file: ${quoteAttrText(rel === '' ? '.' : `./${rel}`)}`);
    for (const [name, value] of attrs) lines.push(`${quoteAttrText(name)}=0s${value.toString('base64')}`);
    lines.push('');
  }
  if (lines.length === 0) return;
  const r = await run('setfattr', ['-h', '--restore=-'], { cwd: root, input: lines.join('\n') + '\n' });
  if (r.code === 0) return;
  const failures = r.stderr.split('\n').filter(Boolean);
  const fatal = tolerant ? failures.filter((l) => !TOLERABLE.test(l)) : failures;
  if (fatal.length > 0 || failures.length === 0) {
    throw new BerthError('IO', `cannot set extended attributes: ${fatal[0] ?? `setfattr exit status ${r.code}`}`);
  }
}

function decodeValue(v: string): Buffer {
  if (v.startsWith('0s')) return Buffer.from(v.slice(2), 'base64');
  if (v.startsWith('0x')) return Buffer.from(v.slice(2), 'hex');
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) return Buffer.from(unquoteAttrText(v.slice(1, -1)), 'utf8');
  return Buffer.from(v, 'utf8');
}

/**
 * Every extended attribute under `dir` (itself included), read with one
 * `getfattr -R -h -d -m - -e base64` run; symlinks are not followed. A file system without
 * xattr support gives an empty table.
 */
export async function readXattrs(dir: string): Promise<XattrTable> {
  const root = resolve(dir);
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const table: XattrTable = new Map();
  const child = spawn('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', '--', root], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 65536) stderr += s;
  });
  const exited = new Promise<number>((res, rej) => {
    child.on('error', (e) =>
      rej(new BerthError('IO', `cannot run getfattr: ${errnoCode(e) === 'ENOENT' ? 'getfattr is not installed (package attr)' : e.message}`, { cause: e })),
    );
    child.on('close', (code) => res(code ?? 1));
  });
  let current: Map<string, Buffer> | undefined;
  try {
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (line.startsWith('# file: ')) {
        const path = unquoteAttrText(line.slice(8));
        const rel = path === root ? '' : path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
        current = undefined;
        if (rel === undefined) continue;
        current = new Map();
        table.set(rel, current);
        continue;
      }
      const eq = line.indexOf('=');
      if (current === undefined || eq <= 0) continue;
      current.set(unquoteAttrText(line.slice(0, eq)), decodeValue(line.slice(eq + 1)));
    }
  } catch (e) {
    child.kill('SIGKILL');
    await exited.catch(() => {});
    throw e;
  }
  const code = await exited;
  if (code !== 0) {
    const fatal = stderr.split('\n').filter((l) => l && !/: Operation not supported$/.test(l));
    if (fatal.length > 0) throw new BerthError('IO', `cannot read extended attributes: ${lastLine(fatal.join('\n'))}`);
  }
  return table;
}
