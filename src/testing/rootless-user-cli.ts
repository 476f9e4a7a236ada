import { existingRootlessUser, rootlessUser, sweepRootlessLeftovers } from './rootless-user.js';
import { writeRootlessContainersConf } from './rootless-podman.js';

/**
 * The rootless test user for scripts (bench/rootless.sh), over rootless-user.ts:
 *   create --owner PID   makes a user owned by process PID (removed by the next sweep once PID is
 *                        gone); prints "NAME UID GID HOME XDG_RUNTIME_DIR" on one line
 *   podman-conf NAME     writes the user's containers.conf for rootless podman; prints its path
 *   remove NAME          removes the user and everything of it (fails listing what was left)
 *   sweep                removes the users of owners that are gone, restores the device modes
 */
const USAGE = 'usage: rootless-user-cli.js create --owner PID | podman-conf NAME | remove NAME | sweep';

function main(argv: string[]): void {
  const [cmd, ...rest] = argv;
  if (cmd === 'create' && rest[0] === '--owner' && /^\d+$/.test(rest[1] ?? '') && rest.length === 2) {
    const u = rootlessUser({ ownerPid: Number(rest[1]) });
    console.log([u.name, u.uid, u.gid, u.home, u.runtimeDir].join(' '));
  } else if (cmd === 'podman-conf' && rest.length === 1) {
    console.log(writeRootlessContainersConf(existingRootlessUser(rest[0]!)));
  } else if (cmd === 'remove' && rest.length === 1) {
    existingRootlessUser(rest[0]!).cleanup();
  } else if (cmd === 'sweep' && rest.length === 0) {
    sweepRootlessLeftovers();
  } else {
    console.error(USAGE);
    process.exit(2);
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`Error: ${(e as Error).message}`);
  process.exit(1);
}
