// engine/images: what callers (the CLI, the library, later the API server) do with images. The
// modules behind it are the engine's own; nothing outside engine/ imports them directly.
export {
  tagImage,
  untagImage,
  removeImages,
  pruneImages,
  combineErrors,
  imageConfig,
  repoAndTag,
  repoDigests,
  imagesUsedBy,
  type RemoveResult,
  type PruneOptions,
} from './records.js';
export { filterImages } from './list.js';
export { pullImages, registriesConf, type PullOptions } from './pull.js';
export { pushImage, type PushOptions } from './push.js';
export { generateSigstoreKey, registrySigstoreSignatures } from './sigstore.js';
export { importImage, loadImages, saveImages, type ImportOptions, type SaveFormat } from './archive.js';
export { inspectImage } from './inspect.js';
export type { ImageFormat } from './commit.js';
export { mountImage, unmountImage, mountedImages } from './mount.js';
export { copyImage, parseMultiArch, type MultiArch } from './copy.js';
export { syncImages, parseSyncYaml, type SyncOptions, type SyncSource } from './sync.js';
export { searchImages, searchTags, type SearchOptions, type SearchResult } from './search.js';
export {
  showTrust,
  setTrust,
  trustPolicyPath,
  TRUST_TYPES,
  type TrustEntry,
  type TrustShow,
  type TrustShowOptions,
  type TrustSetOptions,
  type TrustType,
} from './trust.js';
export { createList, addToList, annotateList, removeFromList, inspectList, pushList, removeLists, listExists, type EntryAnnotations } from './manifests.js';
// Reading a registry without the store (skopeo inspect, list-tags, delete).
export {
  inspectRegistryImage,
  deleteRegistryImage,
  listRegistryTags,
  type PushFormat,
  type RegistryOptions,
  type RemoteImageInfo,
} from '../../transports/docker/index.js';
// The records and names callers find images by.
export { findImage, requireImage } from '../../store/lookup.js';
export { namesHistory, type ImageRecord } from '../../store/images.js';
export type { Image, Layer, ManifestBlob, NamedImage } from '../../image/image.js';
export { hostPlatform, parsePlatform, type Platform } from '../../oci/platform.js';
export { parseReference, parseNormalizedNamed, formatReference, withDefaultTag, type ImageReference } from '../../oci/reference.js';
// GPG signing (issue 17): `image sign`, and `push`/`copy --sign-by` after the upload.
export { signImages, signPushedImage, signableDestination, type GpgSigningOptions, type SignImagesOptions, type SignedManifest } from './sign.js';
export { verifyImage } from './verify.js';
export type { VerifyReport, SignatureReport } from './admission.js';
