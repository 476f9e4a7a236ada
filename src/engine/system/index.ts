// engine/system: the store as a whole (info, df, reset), the event log every noun writes to, and
// registry logins.
export { systemInfo, goArch, type SystemInfo } from './info.js';
export { diskSummary, type DiskSummary } from './disk-summary.js';
export { volumeSize, containerSize } from './disk-usage.js';
export { resetStore, sweepDanglingLayerLinks } from './reset.js';
export {
  readEvents,
  parseEventFilters,
  parseEventTime,
  eventNanos,
  containerEvent,
  imageEvent,
  type BerthEvent,
  type EventType,
  type ReadEventsOptions,
} from './events.js';
export { checkRegistryLogin } from './login.js';
export { enterUserNamespace, endUserNamespace } from './userns.js';
export { isRootless, rootlessIds } from '../../util/rootless.js';
export { getCredentials, setCredentials, removeCredentials, listAuthKeys, authFileForWriting, normalizeLoginKey, validateAuthKey } from '../../config/auth.js';
export { searchRegistries } from '../../config/registries.js';
// Times as Go prints them (podman's JSON output).
export { goTimestamp } from '../../oci/time.js';
// The host's group file, read as a container's is (the API socket's group).
export { parseGroup } from '../../runtime/user.js';
