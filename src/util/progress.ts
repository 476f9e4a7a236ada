import { Transform, type TransformCallback } from 'node:stream';

/** What long operations report; the CLI draws bars on a terminal and plain lines elsewhere. */
export type ProgressEvent =
  | { type: 'blob'; digest: string; size: number; state: 'start' | 'done' | 'skipped' }
  | { type: 'bytes'; digest: string; bytes: number }
  | { type: 'config'; digest: string }
  | { type: 'manifest' };

export type ProgressSink = (event: ProgressEvent) => void;

/** A pass-through that reports how many bytes of a blob have gone by (at most every 100 ms). */
export function countProgress(digest: string, sink: ProgressSink | undefined): Transform {
  let bytes = 0;
  let last = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      bytes += chunk.length;
      const now = Date.now();
      if (sink && now - last >= 100) {
        last = now;
        sink({ type: 'bytes', digest, bytes });
      }
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      sink?.({ type: 'bytes', digest, bytes });
      cb();
    },
  });
}
