import type { Readable } from 'node:stream';
import { tarDirectory } from '../../archive/diff.js';
import { extractTar, openTarStream } from '../../archive/extract.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { dirOpener } from '../containers/copy-files.js';
import { getVolume, volumeDataDir } from './volumes.js';

/** `volume export`: the volume's content as a plain tar, its paths relative to the volume. */
export async function exportVolume(store: Store, name: string): Promise<Readable> {
  const v = await getVolume(store, name);
  return tarDirectory(volumeDataDir(store, v.name));
}

/**
 * `volume import`: a tar (plain, gzip or zstd) unpacked into the volume, merging with what is
 * there. Every directory is opened without following links, as `cp` unpacks into a container, so
 * a symlink in the volume cannot send the archive's files elsewhere on the host.
 */
export async function importVolume(store: Store, name: string, input: Readable): Promise<void> {
  const v = await getVolume(store, name);
  const { stream, isTar } = await openTarStream(input);
  if (!isTar) {
    stream.destroy();
    throw new BerthError('USAGE', 'the input is not a (compressed) tar archive');
  }
  const dirs = dirOpener({ root: volumeDataDir(store, v.name), mounts: [] }, '/');
  try {
    await extractTar(stream, { resolveDir: dirs.open, overwrite: true, display: (rel) => `${v.name}:/${rel}` });
  } finally {
    dirs.close();
  }
}

/** `volume mount`: a local volume is a directory already; its path is what podman prints. */
export async function volumeMountPoint(store: Store, name: string): Promise<string> {
  const v = await getVolume(store, name);
  return volumeDataDir(store, v.name);
}
