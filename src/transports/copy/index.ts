// One copy engine: copyImage() over an ImageSource/ImageDestination pair, and the pair for every transport.
export type { BlobInfo, DestinationCapabilities, ImageDestination, ImageSource } from './types.js';
export { copyImage, copyImages, MAX_PARALLEL_BLOBS, putNewLayer, type CopyImageOptions, type CopyResult } from './copy-image.js';
export { imageSource } from './image-source.js';
export { parseTransportRef, type TransportRef } from './reference.js';
export { openDestination, openSource, registryImageSource, type OpenDestinationOptions, type OpenSourceOptions } from './open.js';
export { registryDestination, type RegistryDestinationOptions } from './registry.js';
export { copyIntoStore, storeDestination, type StoreDestination } from './store.js';
export { ociArchiveDestination, ociDirDestination } from './oci-layout.js';
export { dirDestination } from './dir.js';
export { dockerArchiveDestination } from './docker-archive.js';
