import type * as Crypto from 'node:crypto';

let loaded: typeof Crypto | undefined;

/**
 * node:crypto, loaded where it is first used instead of wherever a module that may use it is
 * imported: Node compiles its internal modules on load (about 5 ms per process here), and most
 * commands on a container (rm, stop, ps, inspect) neither hash nor draw a random name.
 */
export function nodeCrypto(): typeof Crypto {
  loaded ??= process.getBuiltinModule('node:crypto');
  return loaded;
}
