import { withStore } from '../../engine/index.js';
import { tagImage, untagImage } from '../../engine/images/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';

export async function run(g: GlobalOptions, image: string, targets: string[]): Promise<void> {
  await withStore(engineOptions(g), (store) => tagImage(store, image, targets));
}

export async function runUntag(g: GlobalOptions, image: string, names: string[]): Promise<void> {
  await withStore(engineOptions(g), (store) => untagImage(store, image, names));
}
