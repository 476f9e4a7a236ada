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
export { networkFilter, type FilterableNetwork } from './filters.js';
export { leaseRangeCidr } from '../../network/cidr.js';
export { DEFAULT_NETWORK, type CreateNetworkOptions } from '../../network/definitions.js';
export type { Network } from '../../network/types.js';
