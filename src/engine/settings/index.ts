// engine/settings: what the global flags set for the whole process (the runtime's own flags, and
// whether a runtime named by --runtime exists). A face of its own, apart from the nouns, because the
// CLI applies it before every command: importing it loads only runtime/oci-runtime.ts, not the engine.
export { findExecutable, setRuntimeFlags } from '../../runtime/oci-runtime.js';
