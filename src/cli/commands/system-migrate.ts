import { endUserNamespace, isRootless } from '../../engine/system/index.js';
import type { GlobalOptions } from '../context.js';
import { run as stop } from './stop.js';

/**
 * `system migrate`: rootless, the user namespace is made anew, so a changed /etc/subuid or
 * /etc/subgid takes effect. Its running containers are stopped first, as podman's migrate does:
 * they live in the old namespace, which the next command no longer joins. As root there is no
 * namespace to rebuild and nothing is done.
 */
export async function run(g: GlobalOptions): Promise<void> {
  if (!isRootless()) return;
  await stop(g, [], { all: true });
  await endUserNamespace();
}
