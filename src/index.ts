// berth as a library: the engine's facade (engine/index.ts: images, containers, volumes, networks,
// secrets, system), and the error type, digests, references and store the engine's functions take
// and return.
export * from './engine/index.js';
export { BerthError, ExitCode, isBerthError, type ErrorCode } from './util/errors.js';
export { parseDigest, digestOf, chainIDs, DigestingStream } from './oci/digest.js';
export * from './oci/reference.js';
export { Store, type StoreOptions } from './store/store.js';
