// berth as a library: the engine's functions and the types they take and return.
export { BerthError, ExitCode, isBerthError, type ErrorCode } from './util/errors.js';
export { parseDigest, digestOf, chainIDs, DigestingStream } from './oci/digest.js';
export * from './oci/reference.js';
export { Store, type StoreOptions } from './store/store.js';
export type { ImageRecord } from './store/images.js';
export { findImage, requireImage } from './store/lookup.js';
export type { Image, Layer, ManifestBlob, NamedImage } from './image/image.js';
export { withStore, type EngineOptions } from './engine/engine.js';
export { tagImage, untagImage, removeImages, pruneImages } from './engine/images/records.js';
export { importImage, loadImages, saveImages, type SaveFormat } from './engine/images/archive.js';
export { inspectImage } from './engine/images/inspect.js';
