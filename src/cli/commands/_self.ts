import { berthCommand } from '../../engine/containers/lifecycle.js';

/** conmon calls the CLI that started the container back when it exits: this one, as it was run. */
export function useSelfAsExitCommand(): void {
  const script = process.argv[1];
  if (script) berthCommand.argv = [process.execPath, script];
}
