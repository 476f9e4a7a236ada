import { spawnSync } from 'node:child_process';
import { openSync, writeSync, closeSync, constants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { attachSocket, type Attachment } from '../../runtime/attach.js';
import { DetachScanner, typedDetachKeys } from './detach-keys.js';

/**
 * The caller's side of an attached container: where its output goes and where its input comes
 * from. A terminal on either end (`isTTY`) is put in raw mode and its size passed on; a CLI gives
 * its own process's streams, a library caller any streams.
 */
export interface ContainerStdio {
  stdin: Readable & { isTTY?: boolean; fd?: number; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; rows?: number; columns?: number };
  stderr: Writable;
}

/** The process's own stdio, for a CLI. */
export function processStdio(): ContainerStdio {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

export interface AttachOptions {
  attachSocket: string;
  /** A connection opened early (see attachSocket's wait), else one is opened now. */
  attachment?: Attachment;
  ctl: string;
  stdin: boolean;
  tty: boolean;
  /** The sequence that detaches us from the container, leaving it running (empty: none). */
  detachKeys?: Buffer;
  io: ContainerStdio;
}

/** How an attachment ended: the container's output closed, or the user typed the detach keys. */
export type AttachEnd = 'exited' | 'detached';

export interface Attached {
  done: Promise<AttachEnd>;
  detach: () => void;
}

/**
 * Connects the caller's stdio to a container through conmon's attach socket: output to
 * stdout/stderr, stdin to the container, and with a TTY the terminal in raw mode and its size
 * passed on through conmon's ctl fifo (message 1: resize).
 */
export async function attachStdio(opts: AttachOptions): Promise<Attached> {
  const { stdin, stdout, stderr } = opts.io;
  const a: Attachment = opts.attachment ?? attachSocket(opts.attachSocket);
  await a.ready;
  a.on('stdout', (d) => stdout.write(d));
  a.on('stderr', (d) => stderr.write(d));
  const restore: (() => void)[] = [];
  if (opts.tty && stdin.isTTY && stdin.setRawMode) {
    // The container's terminal does the line discipline; ours passes bytes through untouched.
    // libuv's raw mode keeps output post-processing (\n -> \r\n), which would double every CR the
    // container's terminal already added, so it goes too, as in cfmakeraw. setRawMode(false)
    // restores the whole original state.
    stdin.setRawMode(true);
    if (stdin.fd !== undefined) spawnSync('stty', ['-opost'], { stdio: [stdin.fd, 'ignore', 'ignore'] });
    restore.push(() => stdin.setRawMode?.(false));
  }
  if (opts.tty && stdout.isTTY) {
    const resize = () => sendResize(opts.ctl, stdout.rows ?? 24, stdout.columns ?? 80);
    resize();
    stdout.on('resize', resize);
    restore.push(() => stdout.off('resize', resize));
  }
  let finish: (how: AttachEnd) => void = () => undefined;
  const done = new Promise<AttachEnd>((resolve) => {
    let ended = false;
    finish = (how) => {
      if (ended) return;
      ended = true;
      for (const r of restore.splice(0)) r();
      stdin.pause();
      resolve(how);
    };
  });
  a.once('end', () => finish('exited'));
  if (opts.stdin) {
    // conmon knows nothing of detach keys: we watch what is typed, and on the sequence close our
    // end of the attach socket, which leaves the container running.
    const scanner = new DetachScanner(typedDetachKeys(opts.detachKeys, opts.tty || stdin.isTTY === true));
    const onData = (chunk: Buffer) => {
      const { pass, detach } = scanner.feed(chunk);
      // Backpressure as pipe() has it: a large piped input is not held in memory.
      if (pass.length && !a.stdin.write(pass)) {
        stdin.pause();
        a.stdin.once('drain', () => stdin.resume());
      }
      if (detach) {
        finish('detached');
        a.close();
      }
    };
    const onEnd = () => a.stdin.end();
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    restore.push(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
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
