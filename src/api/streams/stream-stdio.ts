// A container's stdio for one Docker API stream (attach, exec start): its output written to the
// client raw when it has a terminal, else in Docker's 8-byte frames that keep stdout and stderr
// apart; its input read from the client's side of the connection.
import { PassThrough, Writable, type Readable } from 'node:stream';
import type { ContainerStdio } from '../../engine/index.js';
import { muxFrame, STDERR, STDOUT } from './hijack.js';

export interface StreamStdioOptions {
  tty: boolean;
  /** Which output streams the client asked for; the others are dropped. */
  stdout: boolean;
  stderr: boolean;
  /** The client's input (the hijacked socket); none: an empty stream that never ends. */
  input?: Readable;
}

export function streamStdio(out: Writable, opts: StreamStdioOptions): ContainerStdio {
  const sink = (wanted: boolean, stream: typeof STDOUT | typeof STDERR) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (wanted && !out.destroyed && out.writable) out.write(opts.tty ? chunk : muxFrame(stream, chunk));
        done();
      },
    });
  return { stdin: opts.input ?? new PassThrough(), stdout: sink(opts.stdout, STDOUT), stderr: sink(opts.stderr, STDERR) };
}
