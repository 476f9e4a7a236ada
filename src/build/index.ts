export { buildImage, type BuildOptions, type StepEvent } from './build.js';
export type { ImageFormat } from '../engine/image-commit.js';
export { BuildCache } from './cache.js';
export { pruneBuildCache, pruneImagesAndCache } from './prune.js';
