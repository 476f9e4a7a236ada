/**
 * A tar archive written entry by entry into a path the user named: through a temp file renamed into place
 * when finished (util/user-file.ts), so an archive abandoned half-way is never seen under its name.
 */
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { makeDirs } from '../../util/dirs.js';
import { writeUserFileStream } from '../../util/user-file.js';
import { addStream } from '../docker-archive.js';

export interface TarWriter {
  /** Adds a file; entries are written one after another in the order of the calls. */
  add(name: string, body: Buffer | Readable, size: number, mode?: number): Promise<void>;
  /** Ends the archive and puts it in place. */
  finish(): Promise<void>;
  /** Abandons the archive (its temp file removed). */
  abort(): Promise<void>;
}

export async function openTarWriter(path: string): Promise<TarWriter> {
  await makeDirs(dirname(path));
  const pack = tarStream.pack();
  // A failed entry destroys the pack: the pipeline below reports it, and abort() takes the file back.
  pack.on('error', () => undefined);
  let ready: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (ready = resolve));
  const written = writeUserFileStream(path, (out) => {
    ready();
    return pipeline(pack, out);
  });
  written.catch(() => undefined); // awaited by finish() or abort()
  // Nothing is written before the pipeline is in place (the target is looked at first), so no error goes unheard.
  await Promise.race([started, written]);
  const mtime = new Date(0);
  let queue: Promise<void> = Promise.resolve();
  let ended = false;
  return {
    add(name, body, size, mode = 0o644) {
      const run = queue.then(async () => {
        if (Buffer.isBuffer(body)) pack.entry({ name, size, mode, mtime }, body);
        else await addStream(pack, { name, size, mode, mtime }, body);
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async finish() {
      await queue;
      ended = true;
      pack.finalize();
      await written;
    },
    async abort() {
      if (ended) return;
      ended = true;
      pack.destroy(new Error('copy abandoned'));
      await written.catch(() => undefined);
    },
  };
}
