import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Header, pack as packType } from 'tar-stream';

/** Helpers for the archive tests only. */

/**
 * tar-stream, found from this file or, when the tests are compiled outside the repository, from
 * the working directory (the repository root).
 */
function loadPack(): typeof packType {
  for (const base of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      return (createRequire(base)('tar-stream') as { pack: typeof packType }).pack;
    } catch {
      // try the next place
    }
  }
  throw new Error('tar-stream not found: run the tests from the repository root');
}

export interface TestEntry extends Partial<Omit<Header, 'pax'>> {
  name: string;
  content?: string | Buffer;
  /** PAX records (tar-stream writes them as UTF-8 strings). */
  pax?: Record<string, string>;
}

/** A tar built with tar-stream, as bytes. */
export async function tarOf(entries: TestEntry[]): Promise<Buffer> {
  const p = loadPack()();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of p) out.push(chunk as Buffer);
  })();
  for (const { content, ...header } of entries) {
    const body = content === undefined ? undefined : Buffer.from(content);
    await new Promise<void>((res, rej) => {
      const h = { mtime: new Date(1_600_000_000_000), ...header, ...(body ? { size: body.length } : {}) };
      const cb = (err?: Error | null): void => (err ? rej(err) : res());
      if (body) p.entry(h, body, cb);
      else p.entry(h, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(out);
}

export function streamOf(buf: Buffer, chunk = 4096): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
    })(),
    { objectMode: false },
  );
}

export function sha256(buf: Buffer): string {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

/** A fresh temp directory and a function that removes it. */
export async function tempDir(prefix = 'berth-archive-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** All xattrs of one path (not following symlinks) as name → hex. */
export function xattrsOf(path: string): Record<string, string> {
  const out = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', path], { encoding: 'utf8' });
  const result: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/.exec(line);
    if (m) result[m[1]!] = m[2]!;
  }
  return result;
}

export function setXattr(path: string, name: string, hex: string): void {
  execFileSync('setfattr', ['-h', '-n', name, '-v', `0x${hex}`, path]);
}

/** PIDs of live children of this process running `command`. */
export function childrenNamed(command: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm === command && Number(fields[1]) === process.pid && fields[0] !== 'Z') out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** security.capability v2 granting cap_setuid (bit 7) and cap_net_bind_service (bit 10), effective. */
export const CAPABILITY_HEX = '0100000280040000000000000000000000000000';

/** Unpacking with ownership, device nodes and trusted.* xattrs needs root: a skip reason otherwise. */
export const needsRoot: string | false = process.getuid?.() === 0 ? false : 'needs root (chown, mknod, trusted.* xattrs)';
