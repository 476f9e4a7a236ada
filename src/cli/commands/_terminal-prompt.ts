import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Asks `question` on the terminal, on stderr so that stdout stays the command's output. A `secret`
 * answer (a password, a passphrase) is not echoed: what readline writes after the question is
 * dropped, and a line break stands in for the Enter the user does not see.
 */
export async function askOnTerminal(question: string, secret: boolean): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      muted = secret;
    });
  } finally {
    rl.close();
    if (secret) process.stderr.write('\n');
  }
}
