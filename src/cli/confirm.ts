import { createInterface } from 'node:readline';
import { BerthError } from '../util/errors.js';

/**
 * The question podman asks before a command deletes what the user did not name one by one
 * (prunes, `system reset`): the warning, then `Are you sure you want to continue? [y/N] `, and
 * only y or yes goes on. `-f` skips it. Without a terminal on stdin nobody can answer, and taking
 * a piped or closed stdin as consent would delete data unasked, so the command is refused.
 */
export async function confirm(command: string, warning: string, opts: { force?: boolean }): Promise<boolean> {
  if (opts.force) return true;
  assertCanAsk(command);
  return ask(warning);
}

/** Refuses a command that would have to ask when there is no terminal to ask on. */
export function assertCanAsk(command: string): void {
  if (!process.stdin.isTTY) {
    throw new BerthError('USAGE', `${command} asks for confirmation, but stdin is not a terminal: use -f (--force) to remove without asking`);
  }
}

/** Prints the warning and the question, and reads the answer. */
export async function ask(warning: string): Promise<boolean> {
  process.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  return isYes(await readLine());
}

/** y, Y or yes (any case), as podman takes them; anything else, or no answer, is no. */
export function isYes(answer: string | undefined): boolean {
  return answer !== undefined && ['y', 'yes'].includes(answer.trim().toLowerCase());
}

/** One line from stdin, or undefined when it closes first. */
function readLine(): Promise<string | undefined> {
  return new Promise((resolve) => {
    // terminal: false: the tty echoes the answer itself; readline must not take it over.
    const rl = createInterface({ input: process.stdin, terminal: false });
    let answer: string | undefined;
    rl.once('line', (line) => {
      answer = line;
      rl.close();
    });
    rl.once('close', () => {
      process.stdin.pause();
      resolve(answer);
    });
  });
}
