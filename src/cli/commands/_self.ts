import { berthCommand } from '../../engine/containers/index.js';

/**
 * conmon calls the CLI that started the container back when it exits. Through bin/berth when that
 * started this process (it names itself in BERTH_LAUNCHER), so the callback gets the same clean
 * Node options and environment; otherwise through this node and script, with `--` so that no
 * argument after it is read as an option of Node's.
 */
export function useSelfAsExitCommand(): void {
  const launcher = process.env.BERTH_LAUNCHER;
  const script = process.argv[1];
  if (launcher) berthCommand.argv = [launcher];
  else if (script) berthCommand.argv = [process.execPath, '--', script];
}
