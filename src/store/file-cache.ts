import { close, fstat, open, readFile, statSync, type BigIntStats } from 'node:fs';
import { readFile as readPath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { errnoCode } from '../util/errors.js';

const openFd = promisify(open);
const closeFd = promisify(close);
const fstatFd = promisify(fstat) as (fd: number, opts: { bigint: true }) => Promise<BigIntStats>;
const readFd = promisify(readFile) as (fd: number, encoding: 'utf8') => Promise<string>;

/** What one parse of a file made, and the file it was made from (its descriptor held open), or none when there was no file. */
interface Entry {
  parse: (text: string | undefined) => unknown;
  value: unknown;
  file?: { fd: number; stat: BigIntStats };
}

/**
 * The parsed content of small store files, kept in memory between reads, for a long-lived process
 * (the API service lists images on every request) while other processes (the CLI) change the same
 * files at any time.
 *
 * Each read costs one stat of the path, and the cached value serves only while the path still
 * names the very file it was parsed from: same device, inode, size, mtime and ctime. The file
 * stays open while cached, so its inode cannot be freed and its number given to a new file: an
 * equal inode number is the same file, however fast the writes come (no timestamp granularity to
 * trust). The files read this way are never rewritten in place: images.json is replaced whole by
 * rename, build-cache.jsonl is appended to (its size grows) or replaced by rename. So the same
 * file with the same size holds the same bytes.
 *
 * Values are shared between readers: a caller copies before it changes one. Without `enabled`
 * (a command that reads a file once) every read opens, reads and parses the file, holding nothing.
 */
export class FileCache {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly enabled: boolean) {}

  /** The file's content through `parse` (`undefined` text when there is no file). */
  async read<T>(path: string, parse: (text: string | undefined) => T): Promise<T> {
    if (!this.enabled) return parse(await readText(path));
    const cached = this.entries.get(path);
    if (cached && cached.parse === parse && isCurrent(cached, statSync(path, { bigint: true, throwIfNoEntry: false }))) return cached.value as T;
    const entry = await load(path, parse);
    // Another read of the same path may have finished meanwhile: the last one to finish stays (if
    // it read an older file, the next read's stat sees that and reads again).
    const replaced = this.entries.get(path);
    this.entries.set(path, entry);
    if (replaced?.file) await closeFd(replaced.file.fd).catch(() => undefined);
    return entry.value as T;
  }

  /** Forgets every file and closes what it held open. */
  async close(): Promise<void> {
    const held = [...this.entries.values()].flatMap((e) => (e.file ? [e.file.fd] : []));
    this.entries.clear();
    await Promise.all(held.map((fd) => closeFd(fd).catch(() => undefined)));
  }
}

/** Whether the path (as `now` shows it) is still the file the entry was parsed from, or still absent. */
export function isCurrent(entry: Pick<Entry, 'file'>, now: BigIntStats | undefined): boolean {
  if (!entry.file) return now === undefined;
  if (!now) return false;
  const was = entry.file.stat;
  return now.dev === was.dev && now.ino === was.ino && now.size === was.size && now.mtimeNs === was.mtimeNs && now.ctimeNs === was.ctimeNs;
}

/** Opens the file, takes its identity from the descriptor (so it and the bytes are one file's), reads it and keeps it open. */
async function load(path: string, parse: (text: string | undefined) => unknown): Promise<Entry> {
  let fd: number;
  try {
    fd = await openFd(path, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { parse, value: parse(undefined) };
    throw e;
  }
  try {
    const stat = await fstatFd(fd, { bigint: true });
    const value = parse(await readFd(fd, 'utf8'));
    return { parse, value, file: { fd, stat } };
  } catch (e) {
    await closeFd(fd).catch(() => undefined);
    throw e;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readPath(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}
