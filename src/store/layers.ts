import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { makeDirs, readdirIfExists } from '../util/dirs.js';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseDigest } from '../oci/digest.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { CountingStream } from './blobs.js';
import type { TempSpace } from './tmp.js';

/** An unpacked layer: layers/CHAIN/diff is its content, ready to be an overlay lowerdir. */
export interface LayerRecord {
  chainID: string;
  diffID: string;
  parent?: string;
  /** Bytes of unpacked content. */
  size: number;
  /** Bytes of the uncompressed tar (what diffID hashes): archives need it before they can stream the layer. */
  tarSize: number;
  created: string;
}

/** A layer unpacked in temp space, not yet visible. */
export interface StagedLayer {
  dir: string;
  diffID: string;
  size: number;
  tarSize: number;
}

/**
 * Layers unpacked once each, keyed by chain ID. Each is unpacked alone (overlay whiteouts keep it
 * independent of its parents), in temp space, then published by renaming its whole directory into
 * place: a layer directory with layer.json is complete, anything else is not there.
 */
export class LayerStore {
  constructor(
    readonly dir: string,
    private readonly tmp: TempSpace,
  ) {}

  layerDir(chainID: string): string {
    return join(this.dir, parseDigest(chainID).hex);
  }

  diffDir(chainID: string): string {
    return join(this.layerDir(chainID), 'diff');
  }

  async get(chainID: string): Promise<LayerRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.layerDir(chainID), 'layer.json'), 'utf8')) as LayerRecord;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(): Promise<LayerRecord[]> {
    const names = await readdirIfExists(this.dir);
    const records = await Promise.all(names.map((n) => this.get(`sha256:${n}`).catch(() => undefined)));
    return records.filter((r): r is LayerRecord => r !== undefined);
  }

  /**
   * Unpacks an uncompressed layer tar into temp space. Nothing is kept if it fails. With
   * `diffID`, the caller hashes these same bytes itself (a blob stored as it is unpacked) and the
   * promise gives the result: the tar is not hashed twice.
   */
  async stage(tar: Readable, opts: { diffID?: Promise<string> } = {}): Promise<StagedLayer> {
    const dir = await this.tmp.make('layer');
    try {
      await mkdir(join(dir, 'diff'));
      const { applyLayer } = await import('../archive/apply.js');
      const counted = countBytes(tar);
      const applied = await applyLayer(counted.stream, join(dir, 'diff'), { skipDiffID: opts.diffID !== undefined });
      const diffID = opts.diffID ? await opts.diffID : applied.diffID;
      if (diffID === undefined) throw new BerthError('INTERNAL', 'layer unpacked without a diff ID');
      return { dir, diffID, size: applied.size, tarSize: counted.bytes() };
    } catch (e) {
      tar.destroy();
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Makes a staged layer visible as CHAIN. If another process published it first, ours is dropped. */
  async publish(staged: StagedLayer, chainID: string, parent: string | undefined): Promise<LayerRecord> {
    const record: LayerRecord = {
      chainID,
      diffID: staged.diffID,
      ...(parent ? { parent } : {}),
      size: staged.size,
      tarSize: staged.tarSize,
      created: new Date().toISOString(),
    };
    await writeFile(join(staged.dir, 'layer.json'), JSON.stringify(record));
    await makeDirs(this.dir);
    try {
      await rename(staged.dir, this.layerDir(chainID));
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      await rm(staged.dir, { recursive: true, force: true });
      return (await this.get(chainID)) ?? record;
    }
    return record;
  }

  async discard(staged: StagedLayer): Promise<void> {
    await rm(staged.dir, { recursive: true, force: true });
  }

  /**
   * Takes a layer out of sight in one rename, to `into` (in the store's trash, for deleting later);
   * false if it was not there.
   */
  async detach(chainID: string, into: string): Promise<boolean> {
    try {
      await rename(this.layerDir(chainID), into);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
    return true;
  }
}

/** Passes a stream through, counting its bytes. */
function countBytes(input: Readable): { stream: Readable; bytes: () => number } {
  const counter = new CountingStream();
  input.on('error', (e) => counter.destroy(e));
  // An input that failed before we got here (while the stage was being set up) has already
  // emitted its 'error': pass that on, or the unpacking waits forever for data that never comes.
  // (A no-op listener: the consumer, attached next, learns of it from the stream's errored state.)
  if (input.errored || (input.destroyed && !input.readableEnded)) {
    counter.on('error', () => undefined);
    counter.destroy((input.errored as Error | null) ?? new BerthError('IO', 'the layer stream was closed before it ended'));
  }
  return { stream: input.pipe(counter), bytes: () => counter.size };
}
