import { spawn } from 'node:child_process';

/**
 * A pseudo-terminal for a process whose caller has none (the Docker API's `exec -t`: the terminal
 * is at the far end of a socket). Node cannot open one, so util-linux's `script` (in Debian's
 * essential bsdutils) makes it and relays between it and our pipes. `script -c` runs its command
 * through a shell: the words are quoted here, and are berth's own (the runtime, its flags, files
 * under the store), never what a user typed — the user's command travels in the process file.
 */
export function underPty(command: string, args: string[]): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const line = [command, ...args].map(shellQuote).join(' ');
  return {
    command: 'script',
    // -q: no banner; -e: its exit code is the command's; --echo never: the terminal's echo is the inner one's.
    args: ['-q', '-e', '--echo', 'never', '-c', line, '/dev/null'],
    env: { ...process.env, SHELL: '/bin/sh' },
  };
}

/** One word for sh: in single quotes, each ' closed, escaped and reopened. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Sets the window size of the terminal process `pid` has as its stdin (the kernel reopens it
 * through /proc, from outside the container), which signals SIGWINCH to its foreground group.
 */
export function setTerminalSize(pid: number, rows: number, columns: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('stty', ['-F', `/proc/${pid}/fd/0`, 'rows', String(rows), 'cols', String(columns)], { stdio: 'ignore' });
    child.once('error', () => resolve());
    child.once('close', () => resolve());
  });
}
