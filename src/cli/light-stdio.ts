import { fstatSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { errnoCode } from '../util/errors.js';

/**
 * Bytes a pipe takes by write(2) from here: its smallest buffer (one page, when the system is short
 * of pipe pages), so that a reader that is slow or stopped cannot make berth wait inside write(2),
 * where no signal handler runs. The short commands print less (an ID, a version, a short table);
 * what writes more, or streams (`logs -f`, `save`, a run's output), goes on through Node's stream.
 */
const PIPE_BUDGET = 4096;

/**
 * process.stdout and process.stderr for a regular file or a pipe, lighter than Node's own. Node
 * makes a pipe's stream a net.Socket: node:net, the stream base and the perf hooks loaded and a
 * pipe handle built for one line of output (`berth version | cat` 43.6 -> 41.9 ms without them);
 * a file's a SyncWriteStream (~0.5 ms). This one writes each chunk at once with write(2), as
 * Node's own do when the file or the pipe takes it.
 *
 * Node's own stream takes over, for the rest of that chunk and every chunk after it (so the order
 * stays as written), when a pipe has had its budget (above), or is non-blocking (another process
 * sharing it made it so) and full: write(2) says EAGAIN, and Node's stream waits for the pipe in the
 * event loop. A terminal, a socket or a character device gets Node's own stream from the start
 * (`undefined` here).
 */
export function lightStdio(fd: number, nodeStream: () => NodeJS.WriteStream, write: typeof writeSync = writeSync): NodeJS.WriteStream | undefined {
  let budget: number;
  try {
    const st = fstatSync(fd);
    if (st.isFile()) budget = Number.POSITIVE_INFINITY;
    else if (st.isFIFO()) budget = PIPE_BUDGET;
    else return undefined;
  } catch {
    return undefined;
  }
  let node: NodeJS.WriteStream | undefined;
  const handOver = (rest: Buffer, done: (e?: Error | null) => void) => {
    if (!node) {
      node = nodeStream();
      // Node's stream reports its own errors (EPIPE included) on itself: pass them on.
      node.on('error', (err) => stream.destroy(err));
    }
    node.write(rest, done);
  };
  const stream = new Writable({
    decodeStrings: true,
    write(chunk: Buffer, _encoding, done) {
      if (node || chunk.length > budget) return handOver(chunk, done);
      let off = 0;
      try {
        while (off < chunk.length) off += write(fd, chunk, off, chunk.length - off);
        budget -= chunk.length;
        done();
      } catch (e) {
        if (errnoCode(e) !== 'EAGAIN') return done(e as Error);
        handOver(chunk.subarray(off), done);
      }
    },
    // Never closes the descriptor: it is the process's, as Node's stdio streams leave it.
    destroy(err, done) {
      done(err);
    },
  });
  return Object.assign(stream, { fd }) as unknown as NodeJS.WriteStream;
}
