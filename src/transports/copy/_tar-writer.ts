/**
 * A tar archive written entry by entry into a path the user named: through a temp file renamed into place
 * when finished (util/user-file.ts), so an archive abandoned half-way is never seen under its name. Or into a
 * stream (`save` to stdout), which has no way to take back what it was sent: an abandoned archive ends broken there.
 */
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { makeDirs } from '../../util/dirs.js';
import { writeUserFileStream } from '../../util/user-file.js';

export interface TarWriter {
  /** Adds a file; entries are written one after another in the order of the calls. */
  add(name: string, body: Buffer | Readable, size: number, mode?: number): Promise<void>;
  /** Ends the archive and puts it in place. */
  finish(): Promise<void>;
  /** Abandons the archive (its temp file removed). */
  abort(): Promise<void>;
}

export interface TarTargetOptions {
  /** Make the file's missing parent directories (as skopeo's copy does; `save` does not, as podman's). */
  makeParents?: boolean;
}

export async function openTarWriter(target: string | Writable, opts: TarTargetOptions = {}): Promise<TarWriter> {
  if (typeof target === 'string' && opts.makeParents !== false) await makeDirs(dirname(target));
  const pack = tarStream.pack();
  // A failed entry destroys the pack: the pipeline below reports it, and abort() takes the file back.
  pack.on('error', () => undefined);
  let written: Promise<void>;
  if (typeof target === 'string') {
    let ready: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (ready = resolve));
    written = writeUserFileStream(target, (out) => {
      ready();
      return pipeline(pack, out);
    });
    written.catch(() => undefined); // awaited by finish() or abort()
    // Nothing is written before the pipeline is in place (the target is looked at first), so no error goes unheard.
    await Promise.race([started, written]);
  } else {
    written = pipeline(pack, target);
    written.catch(() => undefined);
  }
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

/** Adds one streamed entry to a tar-stream pack and waits until it is fully written. */
function addStream(pack: tarStream.Pack, header: Parameters<tarStream.Pack['entry']>[0], body: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    // Its failure is reported through the callback above; an 'error' event nobody hears would be thrown.
    entry.on('error', () => undefined);
    body.on('error', (e) => {
      entry.destroy(e);
      reject(e);
    });
    body.pipe(entry);
  });
}
