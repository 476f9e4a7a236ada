// The detach keys are the engine's (engine/containers/detach-keys.ts): an attach below the CLI watches for them.
export { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from '../../engine/containers/detach-keys.js';
