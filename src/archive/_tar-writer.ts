import type { TarEntryType } from './_tar-reader.js';

/**
 * Deterministic tar headers: ustar where it fits, with a PAX record set (binary-safe, so xattrs
 * such as security.capability survive) only for what ustar cannot hold. The same header always
 * gives the same bytes: no user or group names, no access or change times.
 */

export interface WriteHeader {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes that follow; 0 for anything but files. */
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Sorted by name by the caller, or not: they are sorted here. */
  xattrs?: ReadonlyMap<string, Buffer>;
}

const BLOCK = 512;
const FLAGS: Record<TarEntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** The zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

/** Zero bytes to pad `size` bytes of content to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

function writeString(block: Buffer, s: string, start: number, len: number): void {
  block.write(s, start, len, 'utf8');
}

function writeOctal(block: Buffer, n: number, start: number, len: number): void {
  block.write(n.toString(8).padStart(len - 1, '0'), start, len - 1, 'latin1');
}

function writeBase256(block: Buffer, n: number, start: number, len: number): void {
  for (let i = start + len - 1; i > start; i--) {
    block[i] = n % 256;
    n = Math.floor(n / 256);
  }
  block[start] = 0x80;
}

/** Splits a long ustar name at a slash into prefix (<=155 bytes) and name (<=100 bytes), if it can. */
function splitName(name: string): [string, string] | undefined {
  if (name.length <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    if (i > 155) break;
    if (i > 0 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

/** One PAX record: "LEN KEY=VALUE\n", where LEN counts its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(key) + value.length + 3; // ' ', '=', '\n'
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function ustar(h: WriteHeader, name: string, prefix: string, linkname: string, flag: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, name, 0, 100);
  writeOctal(block, h.mode & 0o7777, 100, 8);
  writeOctal(block, h.uid <= MAX_OCTAL_7 ? h.uid : 0, 108, 8);
  writeOctal(block, h.gid <= MAX_OCTAL_7 ? h.gid : 0, 116, 8);
  if (h.size <= MAX_OCTAL_11) writeOctal(block, h.size, 124, 12);
  else writeBase256(block, h.size, 124, 12);
  writeOctal(block, h.mtime >= 0 && h.mtime <= MAX_OCTAL_11 ? h.mtime : 0, 136, 12);
  block.write(flag, 156, 1, 'latin1');
  writeString(block, linkname, 157, 100);
  block.write('ustar\x0000', 257, 8, 'latin1');
  writeOctal(block, h.devmajor ?? 0, 329, 8);
  writeOctal(block, h.devminor ?? 0, 337, 8);
  writeString(block, prefix, 345, 155);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** The header block(s) of one entry: a PAX header first when needed, then the ustar header. */
export function encodeHeader(h: WriteHeader): Buffer {
  const name = h.type === 'dir' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  const linkname = h.linkname ?? '';
  const pax = new Map<string, Buffer>();
  const split = isAscii(name) ? splitName(name) : undefined;
  if (split === undefined) pax.set('path', Buffer.from(name));
  if (!isAscii(linkname) || linkname.length > 100) pax.set('linkpath', Buffer.from(linkname));
  if (h.uid > MAX_OCTAL_7) pax.set('uid', Buffer.from(String(h.uid)));
  if (h.gid > MAX_OCTAL_7) pax.set('gid', Buffer.from(String(h.gid)));
  if (h.size > MAX_OCTAL_11) pax.set('size', Buffer.from(String(h.size)));
  if (h.mtime < 0 || h.mtime > MAX_OCTAL_11) pax.set('mtime', Buffer.from(String(h.mtime)));
  for (const [k, v] of h.xattrs ?? []) pax.set(`SCHILY.xattr.${k}`, v);
  const flag = FLAGS[h.type];
  // Fallbacks for readers that ignore PAX: ASCII, truncated.
  const [prefix, shortName] = split ?? ['', asciiTruncate(name, 100)];
  const main = ustar(h, shortName, prefix, pax.has('linkpath') ? asciiTruncate(linkname, 100) : linkname, flag);
  if (pax.size === 0) return main;
  const records = Buffer.concat([...pax.keys()].sort().map((k) => paxRecord(k, pax.get(k)!)));
  const base = name.replace(/\/$/, '').split('/').at(-1) ?? '';
  const paxHeader = ustar(
    { name: '', type: 'file', mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: 0 },
    asciiTruncate(`PaxHeaders.0/${base}`, 100),
    '',
    '',
    'x',
  );
  return Buffer.concat([paxHeader, records, padding(records.length), main]);
}

function asciiTruncate(s: string, max: number): string {
  return s.replace(/[^\x01-\x7f]/g, '_').slice(0, max);
}
