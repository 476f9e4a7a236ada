import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { resolveStorePaths } from '../../engine/index.js';
import { isRootless } from '../../engine/system/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/**
 * `unshare [COMMAND…]`: a command (the user's shell by default) inside the rootless user namespace
 * berth runs in, where the store's files show their container owners and its mounts are visible;
 * BERTH_ROOT and BERTH_RUNROOT name the store, as podman sets CONTAINERS_GRAPHROOT. Its exit code
 * is the command's.
 */
export async function run(g: GlobalOptions, command: string[]): Promise<number> {
  if (!isRootless()) throw new BerthError('USAGE', 'please use unshare with rootless: as root, run the command directly');
  const paths = await resolveStorePaths(engineOptions(g));
  const argv = command.length ? command : [process.env.SHELL || '/bin/sh'];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: { ...process.env, BERTH_ROOT: paths.root, BERTH_RUNROOT: paths.runRoot } });
  return new Promise<number>((resolve, reject) => {
    child.once('error', (e) =>
      reject(new BerthError('USAGE', `${argv[0]}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'command not found' : e.message}`, { exitCode: 127 })),
    );
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
