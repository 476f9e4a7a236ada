import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { withStore } from '../../engine/index.js';
import { exportVolume, importVolume, volumeMountPoint } from '../../engine/volumes/index.js';
import { BerthError } from '../../util/errors.js';
import { writeUserFileStream } from '../../util/user-file.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** `volume export VOLUME [-o FILE]`: a tar of the volume, to stdout unless -o names a file. */
export async function runExport(g: GlobalOptions, name: string, f: { output?: string }): Promise<void> {
  if (!f.output && process.stdout.isTTY) throw new BerthError('USAGE', 'expected a file path or a redirect of stdout: the tar is not for a terminal');
  await withStore(engineOptions(g), async (store) => {
    const tar = await exportVolume(store, name);
    if (f.output) await writeUserFileStream(f.output, (out) => pipeline(tar, out));
    else await pipeline(tar, process.stdout, { end: false });
  });
}

/** `volume import VOLUME FILE|-`: a tar unpacked into the volume. */
export async function runImport(g: GlobalOptions, name: string, source: string): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const input = source === '-' ? process.stdin : createReadStream(source);
    await importVolume(store, name, input);
  });
}

/** `volume mount VOLUME...`: prints where each is; a local volume needs no mount. */
export async function runMount(g: GlobalOptions, names: string[]): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    for (const name of names) process.stdout.write(`${await volumeMountPoint(store, name)}\n`);
  });
}

/** `volume unmount VOLUME...`: nothing to undo for a local volume; prints each name, as podman. */
export async function runUnmount(g: GlobalOptions, names: string[]): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    for (const name of names) {
      await volumeMountPoint(store, name); // an unknown volume is an error, as podman's
      process.stdout.write(`${name}\n`);
    }
  });
}
