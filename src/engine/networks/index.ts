// engine/networks: podman's network verbs.
export {
  createNetwork,
  listNetworks,
  getNetwork,
  removeNetwork,
  pruneNetworks,
  connectContainer,
  disconnectContainer,
  reloadNetworks,
  containersOn,
  networkDefinitions,
  type ConnectOptions,
} from './networks.js';
export type { Network } from '../../network/types.js';
