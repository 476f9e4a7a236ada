export { buildImage, type BuildOptions, type PullPolicy } from './build.js';
export type { ImageFormat } from '../engine/image-commit.js';
export { BuildCache } from './cache.js';
