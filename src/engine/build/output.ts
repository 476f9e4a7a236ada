import { execFileAsync as run } from '../../util/exec-file.js';
import { lstat, readdir, rm } from 'node:fs/promises';
import { makeDirs } from '../../util/dirs.js';
import { writeUserFileStream } from '../../util/user-file.js';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { tarDirectory } from '../../archive/diff.js';
import { mountOverlay, unmountOverlay } from '../../store/overlay.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';

/** `-o type=local,dest=DIR` or `-o type=tar,dest=FILE`: where the final image's file system goes. */
export interface BuildOutput {
  type: 'local' | 'tar';
  dest: string;
}

/** podman's `--output` value: `type=local,dest=DIR`, `type=tar,dest=FILE`, or a bare directory. */
export function parseOutput(value: string): BuildOutput {
  if (!value.includes('=')) return { type: 'local', dest: value };
  const fields = new Map(
    value.split(',').map((kv) => {
      const eq = kv.indexOf('=');
      return [eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1)] as const;
    }),
  );
  const type = fields.get('type');
  const dest = fields.get('dest');
  if (type !== 'local' && type !== 'tar') throw new BerthError('USAGE', `invalid --output "${value}": type must be local or tar`);
  if (!dest) throw new BerthError('USAGE', `invalid --output "${value}": dest= is required`);
  return { type, dest };
}

/** The unpacked layer directories of an image, bottom first: the lower dirs of an overlay of it. */
export async function imageDiffDirs(store: Store, imageId: string): Promise<string[]> {
  const record = (await store.images()).find((i) => i.id === imageId);
  if (!record) throw new BerthError('IMAGE_UNKNOWN', `${imageId}: image not known`);
  return record.layers.map((c) => store.layers.diffDir(c));
}

/** Writes the image's file system (all its layers merged) to a directory or a tar file. */
export async function exportImage(store: Store, imageId: string, output: BuildOutput): Promise<void> {
  const dir = await store.tmp.make('build-output');
  const dirs = { upper: join(dir, 'diff'), work: join(dir, 'work'), merged: join(dir, 'merged') };
  try {
    await mountOverlay(store.root, await imageDiffDirs(store, imageId), dirs);
    try {
      if (output.type === 'local') {
        await makeDirs(output.dest);
        await run('cp', ['-a', `${dirs.merged}/.`, output.dest]);
      } else {
        if (output.dest === '-') await pipeline(tarDirectory(dirs.merged), process.stdout);
        else await writeUserFileStream(output.dest, (out) => pipeline(tarDirectory(dirs.merged), out));
      }
    } finally {
      await unmountOverlay(dirs);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The overlay diffs of `layers` (bottom first) merged into one diff in `into`, as overlayfs would
 * see them stacked: a whiteout or an opaque directory drops what the lower ones had there, a file
 * replaces, directories merge. `into` then diffs into the single layer of --squash.
 */
export async function squashDiffs(layers: string[], into: string, baseLayers: string[], storeRoot: string): Promise<void> {
  await makeDirs(into);
  const whiteouts: string[] = [];
  for (const layer of layers) {
    // First drop what this layer hides or replaces, then copy it over (cp keeps devices and xattrs).
    const walk = async (rel: string) => {
      for (const name of await readdir(join(layer, rel))) {
        const r = rel === '' ? name : `${rel}/${name}`;
        const st = await lstat(join(layer, r));
        if (st.isCharacterDevice() && st.rdev === 0) whiteouts.push(r);
        const there = await lstat(join(into, r)).catch(() => undefined);
        if (!there) continue;
        const opaque = st.isDirectory() && (await isOpaque(join(layer, r)));
        if (!st.isDirectory() || !there.isDirectory() || opaque) {
          await rm(join(into, r), { recursive: true, force: true });
        } else {
          await walk(r);
        }
      }
    };
    await walk('');
    await run('cp', ['-a', `${layer}/.`, into]);
  }
  // A whiteout of what the base never had (made and removed by the build) is dropped, as podman's
  // single commit never sees it.
  if (whiteouts.length === 0) return;
  const dirs = { upper: `${into}.base-upper`, work: `${into}.base-work`, merged: `${into}.base` };
  await mountOverlay(storeRoot, baseLayers, dirs);
  try {
    for (const r of new Set(whiteouts)) {
      const inCombined = await lstat(join(into, r)).catch(() => undefined);
      const inBase = await lstat(join(dirs.merged, r)).catch(() => undefined);
      if (inCombined?.isCharacterDevice() && inCombined.rdev === 0 && !inBase) await rm(join(into, r), { force: true });
    }
  } finally {
    await unmountOverlay(dirs);
    await Promise.all([dirs.upper, dirs.work, dirs.merged].map((d) => rm(d, { recursive: true, force: true })));
  }
}

async function isOpaque(path: string): Promise<boolean> {
  for (const attr of ['trusted.overlay.opaque', 'user.overlay.opaque']) {
    const r = await run('getfattr', ['--only-values', '-n', attr, path]).catch(() => undefined);
    if (r?.stdout.trim() === 'y') return true;
  }
  return false;
}
