// A build whose context comes as a tar stream (the Docker API's POST /build, `build -` of a tar):
// unpacked into the store's temp space with the extractor `cp` uses, built, and removed after.
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
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
 * earlier; the Dockerfile is looked for inside the context, through links only as far as they stay in it.
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
    } catch (e) {
      // A bad archive is the client's (an entry under a symlink the archive made, a truncated tar), not the service's.
      if (e instanceof BerthError && e.code === 'INTERNAL') throw e;
      throw new BerthError('ARCHIVE_INVALID', `unpacking the build context: ${(e as Error).message.replace(/'\/proc\/self\/fd\/\d+\//g, "'")}`, { cause: e });
    } finally {
      dirs.close();
    }
    const { file: given, ...rest } = opts;
    let file: string | undefined;
    if (given !== undefined && given !== '') {
      // Resolved against the context's root as a chroot would: `../x` cannot climb out of it.
      const rel = posix.normalize(`/${given}`).slice(1);
      // Links the archive made are followed only as far as they stay in the context.
      const real = await realpath(join(contextDir, rel)).catch(() => undefined);
      if (!real) throw new BerthError('USAGE', `cannot locate specified Dockerfile: ${given}`);
      if (!real.startsWith(`${await realpath(contextDir)}/`)) throw new BerthError('USAGE', `the Dockerfile ${given} leads out of the build context`);
      if (!(await stat(real)).isFile()) throw new BerthError('USAGE', `the Dockerfile ${given} is not a regular file`);
      file = real;
    }
    return await buildImage(store, { ...rest, contextDir, ...(file !== undefined ? { file } : {}) });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
