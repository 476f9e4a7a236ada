import { spawnSync } from 'node:child_process';
import { openSync, writeSync, closeSync, constants } from 'node:fs';
import { attachSocket, type Attachment } from '../../runtime/attach.js';

export interface AttachOptions {
  attachSocket: string;
  /** A connection opened early (see attachSocket's wait), else one is opened now. */
  attachment?: Attachment;
  ctl: string;
  stdin: boolean;
  tty: boolean;
}

/**
 * Connects the terminal (or our stdio) to a container through conmon's attach socket: output to
 * stdout/stderr, stdin to the container, and with a TTY the terminal in raw mode and its size
 * passed on through conmon's ctl fifo (message 1: resize).
 */
export async function attachTerminal(opts: AttachOptions): Promise<{ done: Promise<void>; detach: () => void }> {
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
  if (opts.stdin) {
    process.stdin.pipe(a.stdin);
    restore.push(() => process.stdin.unpipe(a.stdin));
  }
  const done = new Promise<void>((resolve) => {
    a.once('end', () => {
      for (const r of restore) r();
      process.stdin.pause();
      resolve();
    });
  });
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
