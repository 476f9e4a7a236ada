// The docker:// transport: a distribution-spec registry client, reading and writing Images (pull and push, which know the store, are engine/images).
export { parseWWWAuthenticate, repositoryScope, Authenticator, type Challenge } from './auth.js';
export { RegistryClient, MANIFEST_ACCEPT, apiHost, loadCertDir, type RegistryOptions } from './client.js';
export { openBlob, readBlob, blobExists, mountBlob, uploadBlob, DEFAULT_CHUNK_SIZE } from './blobs.js';
export { readRegistryImage, readRegistryIndex, listRegistryTags, manifestReference, type ReadOptions } from './reader.js';
export { deleteRegistryImage, inspectRegistryImage, type RemoteImage, type RemoteImageInfo, type RemoteInspectOptions } from './inspect.js';
export { writeRegistryImage, writeRegistryIndex, manifestAs, formatOf, type WriteOptions, type PushFormat } from './writer.js';
export { nextLink } from './_http.js';
export { readSigstoreSignatures, writeSigstoreSignature } from './sigstore.js';
