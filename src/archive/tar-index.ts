import { open, type FileHandle } from 'node:fs/promises';
import { BerthError } from '../util/errors.js';

/** Where a regular file's content sits inside an uncompressed tar file. */
export interface TarIndexEntry {
  name: string;
  offset: number;
  size: number;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  linkname: string;
}

const BLOCK = 512;

function cstring(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function parseSize(buf: Buffer): number {
  // base-256 (GNU) for sizes over 8 GiB, octal otherwise
  if ((buf[124]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + buf[i]!;
    return n;
  }
  const s = cstring(buf, 124, 12).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function checksumOk(buf: Buffer): boolean {
  const stored = parseInt(cstring(buf, 148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : buf[i]!;
  return sum === stored;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(body.toString('utf8', pos, space), 10);
    if (!(len > 0)) break;
    const record = body.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

function normalizeName(name: string): string {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  if (n.endsWith('/')) n = n.slice(0, -1);
  return n;
}

/**
 * Reads only the headers of an uncompressed tar file and records where each member's data is, so
 * that archives (docker-archive, oci-archive) can be read in any order with ranged reads instead of
 * being unpacked. Handles ustar prefixes, GNU long names and PAX path/size records.
 */
export async function indexTar(path: string): Promise<Map<string, TarIndexEntry>> {
  const fh = await open(path, 'r');
  try {
    return await indexTarHandle(fh, path);
  } finally {
    await fh.close();
  }
}

async function indexTarHandle(fh: FileHandle, path: string): Promise<Map<string, TarIndexEntry>> {
  const { size: fileSize } = await fh.stat();
  const entries = new Map<string, TarIndexEntry>();
  const header = Buffer.alloc(BLOCK);
  let pos = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  const invalid = (why: string) => new BerthError('ARCHIVE_INVALID', `${path} is not a valid tar archive: ${why}`);
  for (;;) {
    if (pos + BLOCK > fileSize) {
      if (entries.size === 0) throw invalid('it is empty or truncated');
      break; // a missing end-of-archive marker is tolerated, as GNU tar does
    }
    await fh.read(header, 0, BLOCK, pos);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) throw invalid(`bad header checksum at offset ${pos}`);
    const typeflag = String.fromCharCode(header[156]!);
    let size = parseSize(header);
    if (pax.size !== undefined) size = Number(pax.size);
    const dataOffset = pos + BLOCK;
    if (dataOffset + size > fileSize) throw invalid(`member at offset ${pos} is truncated`);
    const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K') {
      const body = Buffer.alloc(size);
      await fh.read(body, 0, size, dataOffset);
      if (typeflag === 'x') pax = { ...pax, ...parsePax(body) };
      else if (typeflag === 'L') longName = cstring(body, 0, size);
      else longLink = cstring(body, 0, size);
      pos = next;
      continue;
    }
    if (typeflag === 'g') {
      pos = next;
      continue;
    }
    const magic = header.toString('ascii', 257, 262);
    const prefix = magic === 'ustar' ? cstring(header, 345, 155) : '';
    const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/${cstring(header, 0, 100)}` : cstring(header, 0, 100));
    const linkname = pax.linkpath ?? longLink ?? cstring(header, 157, 100);
    const type =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'directory'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'link'
              : 'other';
    const name = normalizeName(rawName);
    entries.set(name, { name, offset: dataOffset, size, type, linkname: normalizeName(linkname) });
    longName = undefined;
    longLink = undefined;
    pax = {};
    pos = next;
  }
  return entries;
}
