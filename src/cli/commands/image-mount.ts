import { mountedImages, mountImage, requireImage, unmountImage } from '../../engine/images/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** `berth image mount [IMAGE...]`: prints each mount point; with none (or --all), `NAME  MOUNTPOINT` lines as podman lists them. */
export async function runMount(g: GlobalOptions, names: string[], f: { all?: boolean; format?: string }): Promise<void> {
  if (f.format !== undefined && f.format !== 'json') throw new BerthError('USAGE', `unknown --format "${f.format}": image mount takes json`);
  await withStore(engineOptions(g), async (store) => {
    const images = await store.images();
    if (names.length > 0 && !f.all) {
      // Every name is looked up before anything is mounted: a typo mounts nothing.
      const targets = names.map((n) => requireImage(images, n));
      for (const image of targets) process.stdout.write(`${await mountImage(store, image)}\n`);
      return;
    }
    if (f.all) for (const image of images) await mountImage(store, image);
    const mounted = await mountedImages(store);
    if (f.format === 'json') {
      const json = mounted.map(({ image, mountpoint }) => ({
        id: image.id.replace(/^sha256:/, ''),
        Names: image.digests,
        Repositories: image.names,
        mountpoint,
      }));
      process.stdout.write(`${JSON.stringify(json, null, 1)}\n`);
      return;
    }
    const rows = mounted.map(({ image, mountpoint }) => [image.names[0] ?? image.id.replace(/^sha256:/, '').slice(0, 12), mountpoint] as const);
    const width = Math.max(0, ...rows.map(([name]) => name.length));
    process.stdout.write(rows.map(([name, path]) => `${name.padEnd(width)}  ${path}\n`).join(''));
  });
}

/** `berth image unmount IMAGE...|--all`: prints the ID of each image it unmounted (nothing for one not mounted). */
export async function runUnmount(g: GlobalOptions, names: string[], f: { all?: boolean; force?: boolean }): Promise<void> {
  if (!f.all && names.length === 0) throw new BerthError('USAGE', 'when no images are specified, use --all to unmount every mounted image');
  await withStore(engineOptions(g), async (store) => {
    const images = await store.images();
    const targets = f.all ? (await mountedImages(store)).map((m) => m.image) : names.map((n) => requireImage(images, n));
    for (const image of targets) {
      if (await unmountImage(store, image)) process.stdout.write(`${image.id.replace(/^sha256:/, '')}\n`);
    }
  });
}
