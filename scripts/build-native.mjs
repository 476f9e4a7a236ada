// Builds berth's native addon (native/berth-native.c: mount, umount and conmon's SOCK_SEQPACKET
// attach socket without child processes) from source with node-gyp, against the headers of the
// Node that runs this script (the official build carries them in include/node, so nothing is
// downloaded). Rebuilt only when its sources are newer than the last build.
//
// berth works without it (src/util/native.ts falls back to the mount, umount and perl programs),
// so a machine without a C compiler gets a warning, not a failed build.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const SOURCES = ['native/berth-native.c', 'native/binding.gyp'];
export const NATIVE_ADDON = 'native/build/Release/berth_native.node';

/** The addon's path once built (or already up to date), undefined where it cannot be built here. */
export function buildNative() {
  // A checkout without the addon's sources (a trimmed copy) builds without it.
  if (!SOURCES.every((f) => existsSync(f))) return undefined;
  const newest = Math.max(...SOURCES.map((f) => statSync(f).mtimeMs));
  if (existsSync(NATIVE_ADDON) && statSync(NATIVE_ADDON).mtimeMs >= newest) return NATIVE_ADDON;
  const nodeDir = dirname(dirname(process.execPath));
  if (!existsSync(join(nodeDir, 'include/node/node_api.h'))) {
    console.warn(`build: no Node.js headers in ${nodeDir}/include/node: berth's native addon is not built (the mount, umount and perl programs do its work)`);
    return undefined;
  }
  const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  try {
    execFileSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`, '--loglevel=error'], { cwd: 'native', stdio: ['ignore', 'ignore', 'inherit'] });
    return NATIVE_ADDON;
  } catch {
    console.warn("build: berth's native addon failed to build (above): the mount, umount and perl programs do its work");
    return undefined;
  }
}
