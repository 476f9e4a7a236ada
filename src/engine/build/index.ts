export { buildImage, type BuildOptions, type PullPolicy, type StepEvent } from './build.js';
export type { ImageFormat } from '../images/commit.js';
export { buildFromArchive, type ArchiveBuildOptions } from './archive-context.js';
export { BuildCache } from './cache.js';
export { pruneBuildCache, pruneImagesAndCache } from './prune.js';
export { parseOutput } from './output.js';
