import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageRecord } from '../../store/images.js';
import { isMounted, mountOverlay, overlayDirs, unmountOverlay, type OverlayDirs } from '../../store/overlay.js';
import type { Store } from '../../store/store.js';

/**
 * `image mount`: an image's root file system, its layers stacked read-only under
 * ROOT/image-mounts/<id>/merged, mounted until `image unmount` (as podman's, but with no mount
 * counter: one unmount ends it).
 */
function imageMountDirs(store: Store, image: ImageRecord): OverlayDirs {
  return overlayDirs(join(store.root, 'image-mounts', image.id.replace(/^sha256:/, '')));
}

/** Mounts the image (already mounted is fine) and returns where. */
export async function mountImage(store: Store, image: ImageRecord): Promise<string> {
  const dirs = imageMountDirs(store, image);
  await mountOverlay(
    store.root,
    image.layers.map((l) => store.layers.diffDir(l)),
    dirs,
    { readOnly: true },
  );
  return dirs.merged;
}

/** Unmounts the image; false when it was not mounted. */
export async function unmountImage(store: Store, image: ImageRecord): Promise<boolean> {
  const dirs = imageMountDirs(store, image);
  if (!(await isMounted(dirs.merged))) return false;
  await unmountOverlay(dirs);
  await rm(join(dirs.merged, '..'), { recursive: true, force: true });
  return true;
}

/** The images mounted now, with where. */
export async function mountedImages(store: Store): Promise<{ image: ImageRecord; mountpoint: string }[]> {
  const out: { image: ImageRecord; mountpoint: string }[] = [];
  for (const image of await store.images()) {
    const { merged } = imageMountDirs(store, image);
    if (await isMounted(merged)) out.push({ image, mountpoint: merged });
  }
  return out;
}
