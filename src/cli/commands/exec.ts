import { type ExecRunOptions, execInContainer, parseDetachKeys, processStdio } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** The engine's exec options as commander gives them: the detach keys still a spec, no stdio yet. */
type ExecFlags = Omit<ExecRunOptions, 'detachKeys' | 'io'> & { detachKeys?: string };

/**
 * `berth exec`: the engine's exec with this process's stdio. Exits with the process's code;
 * 126/127 when it cannot be run or is not found, as podman does.
 */
export async function run(g: GlobalOptions, name: string, command: string[], f: ExecFlags): Promise<number> {
  const detachKeys = parseDetachKeys(f.detachKeys);
  return withStore(engineOptions(g), async (store) => {
    const result = await execInContainer(store, name, command, { ...f, detachKeys, io: processStdio() });
    if (f.detach && result.exitCode === 0 && !result.detached) process.stdout.write(`${result.id}\n`);
    return result.exitCode;
  });
}
