// What push remembers of the layer blobs it compressed: for each stored blob (an uncompressed layer, or one
// recompressed on request), the blobs made of it: digest, size, compression and level. A later push asks the
// registry for one of those before compressing the layer again. It is a cache in the store's root: an entry lost
// (two pushes saving at once, the last one wins) only costs a compression, and a broken file is started afresh.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompressedBlob } from '../../image/recompress.js';
import { writeFileAtomic } from '../../util/atomic.js';

const FILE = 'compressed-layers.json';
/** Stored blobs remembered, the most recently compressed or reused kept; and blobs of each (levels, formats). */
const MAX_LAYERS = 4096;
const MAX_BLOBS = 8;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

type Entries = Map<string, CompressedBlob[]>;

function isCompressedBlob(b: unknown): b is CompressedBlob {
  const x = b as Partial<CompressedBlob> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.digest === 'string' &&
    DIGEST.test(x.digest) &&
    Number.isSafeInteger(x.size) &&
    (x.compression === 'gzip' || x.compression === 'zstd') &&
    (x.level === undefined || Number.isInteger(x.level))
  );
}

async function load(path: string): Promise<Entries> {
  const entries: Entries = new Map();
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return entries; // none yet, or unreadable: a cache starts empty
  }
  const layers = (doc as { layers?: unknown } | null)?.layers;
  if (typeof layers !== 'object' || layers === null) return entries;
  for (const [digest, blobs] of Object.entries(layers)) {
    if (DIGEST.test(digest) && Array.isArray(blobs)) entries.set(digest, blobs.filter(isCompressedBlob));
  }
  return entries;
}

const sameBlob = (a: CompressedBlob, b: CompressedBlob) => a.digest === b.digest;

export class CompressedLayers {
  private readonly added: [string, CompressedBlob][] = [];

  private constructor(
    private readonly path: string,
    private readonly entries: Entries,
  ) {}

  static async open(storeRoot: string): Promise<CompressedLayers> {
    const path = join(storeRoot, FILE);
    return new CompressedLayers(path, await load(path));
  }

  /** The blobs known to be made of the stored blob `digest`, the most recent first. */
  of(digest: string): readonly CompressedBlob[] {
    return this.entries.get(digest) ?? [];
  }

  /** Remembers `blob` as made of the stored blob `digest` (again: it moves to the front). */
  add(digest: string, blob: CompressedBlob): void {
    this.added.push([digest, blob]);
    put(this.entries, digest, blob);
  }

  /** Writes what was added since open, over what other processes saved meanwhile. */
  async save(): Promise<void> {
    if (this.added.length === 0) return;
    const current = await load(this.path);
    for (const [digest, blob] of this.added) put(current, digest, blob);
    const kept = [...current].slice(-MAX_LAYERS);
    await writeFileAtomic(this.path, `${JSON.stringify({ layers: Object.fromEntries(kept) })}\n`);
    this.added.length = 0;
  }
}

/** `blob` first among the blobs of `digest`, and `digest` last in the map's order (the most recent). */
function put(entries: Entries, digest: string, blob: CompressedBlob): void {
  const blobs = [blob, ...(entries.get(digest) ?? []).filter((b) => !sameBlob(b, blob))].slice(0, MAX_BLOBS);
  entries.delete(digest);
  entries.set(digest, blobs);
}
