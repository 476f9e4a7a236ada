import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { diffDirectory } from '../../archive/diff.js';
import { baseImage, commitImage, type ImageFormat } from '../images/commit.js';
import type { Store } from '../../store/store.js';
import { squashDiffs } from './output.js';

/**
 * --squash: one layer holding every change the stage made over its base (the layers merged as
 * overlayfs stacks them), under the final config; the base's layers stay as they are.
 */
export async function squashImage(
  store: Store,
  base: string,
  top: string,
  format: ImageFormat,
  times: { timestamp?: number; mtime?: number },
  created: Date | undefined,
): Promise<string> {
  const images = await store.images();
  const baseLayers = images.find((i) => i.id === base)?.layers ?? [];
  const topLayers = images.find((i) => i.id === top)?.layers ?? [];
  const ownLayers = topLayers.slice(baseLayers.length).map((c) => store.layers.diffDir(c));
  const { config } = await baseImage(store, top);
  const baseRead = await baseImage(store, base);
  // podman keeps every step's history entry, all empty but the last, which carries the one layer.
  const steps = (config.history ?? []).slice((baseRead.config.history ?? []).length);
  const last = steps.pop() ?? { created_by: '/bin/sh -c #(nop) squashed' };
  const { empty_layer: _, ...lastEntry } = last;
  const dir = await store.tmp.make('build-squash');
  try {
    await squashDiffs(
      ownLayers,
      join(dir, 'diff'),
      baseLayers.map((c) => store.layers.diffDir(c)),
      store.root,
    );
    const { record } = await commitImage(store, baseRead, {
      config: config.config ?? {},
      layer: diffDirectory(join(dir, 'diff'), times),
      priorHistory: steps.map((h) => ({ ...h, empty_layer: true })),
      history: lastEntry,
      format,
      ...(created ? { created } : {}),
    });
    return record.id;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
