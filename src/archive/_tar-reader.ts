import { createStreamHash, type StreamHash } from '../util/hash.js';
import type { Readable } from 'node:stream';
import { BerthError } from '../util/errors.js';

/**
 * A streaming tar reader for layers: ustar, GNU (long names, base-256 numbers) and PAX headers,
 * with PAX values kept as raw bytes so binary xattrs (security.capability) survive, which
 * tar-stream's string-decoded PAX records do not allow. It hashes every byte it pulls from the
 * input, including whatever follows the end-of-archive marker, so the digest is the layer's diffID.
 */

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** The name exactly as the archive gives it (PAX path, GNU long name or ustar prefix/name). */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, fractional when a PAX record says so. */
  mtime: number;
  atime?: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From `SCHILY.xattr.NAME` PAX records. */
  xattrs: Map<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  /** The content of a file entry; unread content is skipped when the next entry is asked for. */
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;
const MAX_META_SIZE = 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

function invalid(message: string): BerthError {
  return new BerthError('LAYER_INVALID', `invalid layer tar: ${message}`);
}

function cstring(block: Buffer, start: number, len: number): string {
  const end = block.indexOf(0, start);
  return block.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function number(block: Buffer, start: number, len: number, field: string): number {
  if ((block[start]! & 0x80) !== 0) {
    // GNU base-256: 0x80 marks a positive number, 0xff a negative one in two's complement.
    const negative = block[start] === 0xff;
    let n = negative ? -1 : block[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + block[i]!;
    if (!Number.isSafeInteger(n)) throw invalid(`${field} out of range`);
    return n;
  }
  const s = block
    .toString('latin1', start, start + len)
    .replace(/\0.*$/s, '')
    .trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw invalid(`bad ${field} field "${s}"`);
  return parseInt(s, 8);
}

function checksumOk(block: Buffer): boolean {
  const field = block.toString('latin1', 148, 156).replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const stored = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** PAX records: "LEN KEY=VALUE\n", values kept as bytes. */
export function parsePax(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break; // some writers pad the record block with NULs
    const space = body.indexOf(0x20, pos);
    const len = space === -1 ? NaN : Number(body.toString('latin1', pos, space));
    if (!Number.isInteger(len) || len <= space - pos + 1 || pos + len > body.length || body[pos + len - 1] !== 0x0a) {
      throw invalid('malformed PAX record');
    }
    const record = body.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw invalid('malformed PAX record');
    out.set(record.toString('utf8', 0, eq), record.subarray(eq + 1));
    pos += len;
  }
  return out;
}

export class TarReader {
  private readonly it: AsyncIterator<Buffer | string>;
  private readonly hash: StreamHash | undefined;
  private buf: Buffer = EMPTY;
  private remaining = 0;
  private eof = false;
  /** Bytes pulled from the input so far. */
  bytes = 0;

  /** `hash: false` when the caller hashes the same bytes itself. */
  constructor(input: Readable, opts: { hash?: boolean } = {}) {
    this.it = input[Symbol.asyncIterator]();
    this.hash = opts.hash === false ? undefined : createStreamHash('sha256');
  }

  /** The sha256 of everything read (undefined when not hashing); call after drain(). */
  digest(): string | undefined {
    return this.hash ? `sha256:${this.hash.hex()}` : undefined;
  }

  /** Stops reading and destroys the input (which kills any process feeding it). */
  async close(): Promise<void> {
    await this.it.return?.();
  }

  private async fill(): Promise<boolean> {
    while (this.buf.length === 0) {
      if (this.eof) return false;
      const r = await this.it.next();
      if (r.done) {
        this.eof = true;
        return false;
      }
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      this.hash?.update(chunk);
      this.bytes += chunk.length;
      this.buf = chunk;
    }
    return true;
  }

  /** Exactly n bytes, or null when the input ends before the first of them. */
  private async readExact(n: number): Promise<Buffer | null> {
    if (!(await this.fill())) return null;
    if (this.buf.length >= n) {
      const out = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      return out;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      if (!(await this.fill())) throw invalid('unexpected end of data (truncated archive)');
      const take = Math.min(n - got, this.buf.length);
      parts.push(this.buf.subarray(0, take));
      this.buf = this.buf.subarray(take);
      got += take;
    }
    return Buffer.concat(parts, n);
  }

  private async skip(n: number): Promise<void> {
    while (n > 0) {
      if (!(await this.fill())) throw invalid('unexpected end of data (truncated archive)');
      const take = Math.min(n, this.buf.length);
      this.buf = this.buf.subarray(take);
      n -= take;
    }
  }

  private async *body(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      if (!(await this.fill())) throw invalid('unexpected end of data (truncated archive)');
      const take = Math.min(this.remaining, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.remaining -= take;
      yield out;
    }
  }

  /** Reads (and hashes) whatever follows the end of the archive. */
  async drain(): Promise<void> {
    this.buf = EMPTY;
    while (await this.fill()) this.buf = EMPTY;
  }

  /** The entries in archive order. Metadata entries (PAX, GNU long names) are folded into the next one. */
  async *entries(): AsyncGenerator<TarEntry> {
    let pax: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const offset = this.bytes - this.buf.length;
      const block = await this.readExact(BLOCK);
      if (block === null) return; // ended on a header boundary without the zero blocks: accepted
      if (block.every((b) => b === 0)) return; // end-of-archive marker
      if (!checksumOk(block)) throw invalid(`bad header checksum at offset ${offset} (corrupt, or not a tar)`);
      const flag = String.fromCharCode(block[156]!);
      const size = number(block, 124, 12, 'size');
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > MAX_META_SIZE) throw invalid(`metadata entry of ${size} bytes at offset ${offset}`);
        const padded = Math.ceil(size / BLOCK) * BLOCK;
        const data = (await this.readExact(padded)) ?? EMPTY;
        if (data.length < padded) throw invalid('unexpected end of data (truncated archive)');
        const content = data.subarray(0, size);
        // A global PAX header is ignored, as docker and containers/storage do.
        if (flag === 'x') pax = new Map([...(pax ?? []), ...parsePax(content)]);
        else if (flag === 'L') longName = cstring(content, 0, size);
        else if (flag === 'K') longLink = cstring(content, 0, size);
        continue;
      }
      const header = this.header(block, flag, size, offset, pax, longName, longLink);
      pax = longName = longLink = undefined;
      // Only files have content: like Go's archive/tar, the size field of other types is ignored.
      this.remaining = header.type === 'file' ? header.size : 0;
      const skipAfter = Math.ceil(this.remaining / BLOCK) * BLOCK - this.remaining;
      yield { header, body: this.body() };
      await this.skip(this.remaining + skipAfter);
      this.remaining = 0;
    }
  }

  private header(
    block: Buffer,
    flag: string,
    size: number,
    offset: number,
    pax: Map<string, Buffer> | undefined,
    longName: string | undefined,
    longLink: string | undefined,
  ): TarHeader {
    let type = TYPES[flag];
    if (type === undefined) {
      const what = flag === 'S' || pax?.has('GNU.sparse.major') ? 'sparse file' : `type "${flag}"`;
      throw invalid(`unsupported entry (${what}) at offset ${offset}`);
    }
    if (pax && [...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) throw invalid(`unsupported entry (sparse file) at offset ${offset}`);
    const magic = block.toString('latin1', 257, 263);
    let name = cstring(block, 0, 100);
    if (magic === 'ustar\0' && block[345] !== 0) name = `${cstring(block, 345, 155)}/${name}`;
    const text = (k: string): string | undefined => {
      const v = pax?.get(k);
      return v === undefined || v.length === 0 ? undefined : v.toString('utf8');
    };
    const num = (k: string, fallback: number, integer = true): number => {
      const s = text(k);
      if (s === undefined) return fallback;
      const n = Number(s);
      if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) throw invalid(`bad PAX ${k} "${s}"`);
      return n;
    };
    name = text('path') ?? longName ?? name;
    if (flag === '\0' && name.endsWith('/')) type = 'dir'; // pre-POSIX directories
    const xattrs = new Map<string, Buffer>();
    for (const [k, v] of pax ?? []) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
    const atime = text('atime') === undefined ? undefined : num('atime', 0, false);
    const header: TarHeader = {
      name,
      type,
      mode: number(block, 100, 8, 'mode') & 0o7777,
      uid: num('uid', number(block, 108, 8, 'uid')),
      gid: num('gid', number(block, 116, 8, 'gid')),
      size: num('size', size),
      mtime: num('mtime', number(block, 136, 12, 'mtime'), false),
      linkname: text('linkpath') ?? longLink ?? cstring(block, 157, 100),
      devmajor: number(block, 329, 8, 'devmajor'),
      devminor: number(block, 337, 8, 'devminor'),
      xattrs,
      ...(atime === undefined ? {} : { atime }),
    };
    if (header.size < 0) throw invalid(`negative size at offset ${offset}`);
    return header;
  }
}
