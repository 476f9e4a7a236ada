/**
 * `login`/`logout`: credentials for a registry, checked with it before they are stored (podman's
 * order). The CLI asks for them; this is what it does with them.
 */
import { RegistryClient, type RegistryOptions } from '../../transports/docker/index.js';

/** Opens a client on `host` with `opts.creds`, asks the registry whether they work (throws if not), and closes it. */
export async function checkRegistryLogin(host: string, opts: RegistryOptions): Promise<void> {
  const client = await RegistryClient.open(host, opts);
  try {
    await client.checkAuth();
  } finally {
    client.close();
  }
}
