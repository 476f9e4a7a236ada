// Access control for the registry server: config, htpasswd users, tokens, rules and the middleware.
export { createAccessControl, requiredAccess, BASIC_REALM, type AccessControl } from './access.js';
export {
  parseAuthConfig,
  parseDuration,
  matchPattern,
  ANONYMOUS,
  ANY_USER,
  type AuthConfig,
  type TokenConfig,
  type AccessRule,
  type RepositoryAction,
} from './config.js';
export { Htpasswd, parseHtpasswd } from './htpasswd.js';
export { AccessPolicy } from './policy.js';
export { TokenService, parseScopes, grants, type AccessEntry, type TokenClaims } from './tokens.js';
