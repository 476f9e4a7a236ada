// A build whose context comes as a tar stream (the Docker API's POST /build, `build -` of a tar):
// unpacked into the store's temp space with the extractor `cp` uses, built, and removed after.
import { lstat, mkdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { extractTar, openTarStream } from '../../archive/extract.js';
import type { ImageRecord } from '../../store/images.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { dirOpener } from '../containers/copy-files.js';
import { buildImage } from './build.js';
import type { BuildOptions } from './options.js';

export interface ArchiveBuildOptions extends Omit<BuildOptions, 'contextDir' | 'file'> {
  /** The Dockerfile's path inside the context (Docker's `dockerfile` parameter); default Containerfile, then Dockerfile. */
  file?: string;
}

/**
 * Builds from a (plain, gzip or zstd) tar of the context. Every directory of the archive is opened
 * without following links, so an entry cannot be written through a symlink the archive made
 * earlier; the Dockerfile must lie inside the context and be no link (it is read by path).
 */
export async function buildFromArchive(store: Store, input: Readable, opts: ArchiveBuildOptions): Promise<ImageRecord> {
  const { stream, isTar } = await openTarStream(input);
  if (!isTar) {
    stream.destroy();
    throw new BerthError('USAGE', 'the build context is not a (compressed) tar archive');
  }
  const scratch = await store.tmp.make('build-context');
  try {
    const contextDir = join(scratch, 'context');
    await mkdir(contextDir, { mode: 0o755 });
    const dirs = dirOpener({ root: contextDir, mounts: [] }, '/');
    try {
      await extractTar(stream, { resolveDir: dirs.open, overwrite: true, display: (rel) => `context:/${rel}` });
    } finally {
      dirs.close();
    }
    const { file: given, ...rest } = opts;
    let file: string | undefined;
    if (given !== undefined && given !== '') {
      const rel = posix.normalize(`/${given}`).slice(1);
      if (rel === '' || rel.startsWith('..')) throw new BerthError('USAGE', `the Dockerfile ${given} is not inside the build context`);
      file = join(contextDir, rel);
      const st = await lstat(file).catch(() => undefined);
      if (!st) throw new BerthError('USAGE', `cannot locate specified Dockerfile: ${given}`);
      if (!st.isFile()) throw new BerthError('USAGE', `the Dockerfile ${given} is not a regular file in the build context`);
    }
    return await buildImage(store, { ...rest, contextDir, ...(file !== undefined ? { file } : {}) });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
