import { spawnSync } from 'node:child_process';
import { openSync, writeSync, closeSync, constants } from 'node:fs';
import { attachSocket, type Attachment } from '../../runtime/attach.js';
import { DetachScanner } from './_detach-keys.js';

export interface AttachOptions {
  attachSocket: string;
  /** A connection opened early (see attachSocket's wait), else one is opened now. */
  attachment?: Attachment;
  ctl: string;
  stdin: boolean;
  tty: boolean;
  /** The sequence that detaches us from the container, leaving it running (empty: none). */
  detachKeys?: Buffer;
}

/** How an attachment ended: the container's output closed, or the user typed the detach keys. */
export type AttachEnd = 'exited' | 'detached';

/**
 * Connects the terminal (or our stdio) to a container through conmon's attach socket: output to
 * stdout/stderr, stdin to the container, and with a TTY the terminal in raw mode and its size
 * passed on through conmon's ctl fifo (message 1: resize).
 */
export async function attachTerminal(opts: AttachOptions): Promise<{ done: Promise<AttachEnd>; detach: () => void }> {
  const a: Attachment = opts.attachment ?? attachSocket(opts.attachSocket);
  await a.ready;
  a.on('stdout', (d) => process.stdout.write(d));
  a.on('stderr', (d) => process.stderr.write(d));
  const restore: (() => void)[] = [];
  if (opts.tty && process.stdin.isTTY) {
    // The container's terminal does the line discipline; ours passes bytes through untouched.
    // libuv's raw mode keeps output post-processing (\n -> \r\n), which would double every CR the
    // container's terminal already added, so it goes too, as in cfmakeraw. setRawMode(false)
    // restores the whole original state.
    process.stdin.setRawMode(true);
    spawnSync('stty', ['-opost'], { stdio: [process.stdin.fd, 'ignore', 'ignore'] });
    restore.push(() => process.stdin.setRawMode(false));
  }
  if (opts.tty && process.stdout.isTTY) {
    const resize = () => sendResize(opts.ctl, process.stdout.rows, process.stdout.columns);
    resize();
    process.stdout.on('resize', resize);
    restore.push(() => process.stdout.off('resize', resize));
  }
  let finish: (how: AttachEnd) => void = () => undefined;
  const done = new Promise<AttachEnd>((resolve) => {
    let ended = false;
    finish = (how) => {
      if (ended) return;
      ended = true;
      for (const r of restore.splice(0)) r();
      process.stdin.pause();
      resolve(how);
    };
  });
  a.once('end', () => finish('exited'));
  if (opts.stdin) {
    // conmon knows nothing of detach keys: we watch what is typed, and on the sequence close our
    // end of the attach socket, which leaves the container running.
    const scanner = new DetachScanner(opts.detachKeys ?? Buffer.alloc(0));
    const onData = (chunk: Buffer) => {
      const { pass, detach } = scanner.feed(chunk);
      // Backpressure as pipe() has it: a large piped input is not held in memory.
      if (pass.length && !a.stdin.write(pass)) {
        process.stdin.pause();
        a.stdin.once('drain', () => process.stdin.resume());
      }
      if (detach) {
        finish('detached');
        a.close();
      }
    };
    const onEnd = () => a.stdin.end();
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
    restore.push(() => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
    });
  }
  return { done, detach: () => a.close() };
}

export function sendResize(ctl: string, rows: number, columns: number): void {
  try {
    const fd = openSync(ctl, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fd, `1 ${rows} ${columns}\n`);
    closeSync(fd);
  } catch {
    // conmon gone: the container has exited
  }
}
