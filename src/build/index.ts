export { buildImage, type BuildOptions } from './build.js';
export type { ImageFormat } from './image.js';
export { BuildCache } from './cache.js';
