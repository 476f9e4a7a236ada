// engine: the one facade (images, containers, volumes, networks, secrets, system, settings, build). The CLI, the library (src/index.ts) and later the API server reach the
// engine only through this file or a noun's own index.ts; each noun's names already say their noun
// (pullImages, startContainer, createVolume), so they are re-exported flat.
export { withStore, openStore, resolveStorePaths, type EngineOptions } from './engine.js';
export type { Store } from '../store/store.js';
export * from './images/index.js';
export * from './containers/index.js';
export * from './volumes/index.js';
export * from './networks/index.js';
export * from './pods/index.js';
export * from './kube/index.js';
export * from './secrets/index.js';
export * from './system/index.js';
export * from './settings/index.js';
export * from './build/index.js';
