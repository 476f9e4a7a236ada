// engine/secrets: secrets have their own records, events and CLI noun (podman's `secret`, the Docker
// API's /secrets), and containers take them by name at create: a noun of their own, not part of system.
export { createSecret, removeSecrets, getSecret, findSecret, listSecrets, inspectSecret, readSecretData, type CreateSecretOptions } from './secrets.js';
export type { SecretRecord } from '../../store/secrets.js';
