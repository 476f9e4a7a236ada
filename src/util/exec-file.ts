import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const promised = () => promisify(execFile);
let loaded: ReturnType<typeof promised> | undefined;

/**
 * `promisify(execFile)`, made on its first call. Made at a module's top level, it read execFile as
 * the module was evaluated, and so loaded node:child_process (with node:net and node:dgram, ~5 ms)
 * in every command that imports the module: `version`, `rm` and `create` start no child at all.
 */
export const execFileAsync = ((...args: Parameters<ReturnType<typeof promised>>) => (loaded ??= promised())(...args)) as ReturnType<typeof promised>;
