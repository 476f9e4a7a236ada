// The registry server's public face: what `berth registry serve` and tests use.
export { createRegistryApp, resolveTarget, type RegistryAppOptions, type RegistryEnv, type RegistryLimits, type RegistryTarget } from './app.js';
export { loadRegistryConfig, mergeRegistryConfig, parseAddr, type GcConfig, type RegistryConfig } from './config.js';
export { collectGarbage, formatGcReport, GcRunner, type GcOptions, type GcReport } from './gc.js';
export * from './auth/index.js';
export { RegistryError, isRegistryError, type RegistryErrorCode } from './errors.js';
export { startRegistry, type RegistryServerOptions, type RunningRegistry } from './server.js';
export {
  createRegistryLog,
  logGcReport,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  type RegistryLog,
  type RegistryLogOptions,
  type RequestLogEntry,
} from './log.js';
export type { ProxyConfig, ProxyOptions } from './proxy/index.js';
export { isLoopbackAddress, resolveListenAddress, type ListenAddress, type LookupAll } from './listen.js';
export { holdYoungGeneration } from './_release-buffers.js';
export { openFsStorage, FsStorage } from './storage/fs.js';
export { openStorage, type StorageLocation } from './storage/open.js';
export type { S3StorageConfig } from './storage/s3.js';
export type * from './storage/types.js';
