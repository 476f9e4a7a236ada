// The engine's transfer progress (util/progress.ts events) as the Docker API's JSON messages for
// pull and push: per layer, by the first 12 hex digits of its digest, "Pulling fs layer",
// "Downloading" with {current,total}, "Pull complete" or "Already exists" (push: "Preparing",
// "Pushing", "Pushed", "Layer already exists"). docker's CLI draws its bars from progressDetail.
import type { ProgressEvent, ProgressSink } from '../../util/progress.js';

/** One line of a Docker progress stream (jsonmessage.JSONMessage). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  stream?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { message: string; code?: number };
}

export const shortLayerId = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

/** Bytes as Go's units.HumanSize prints them (three significant digits, decimal units): "2.15MB". */
export function decimalSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** The text bar Docker sends beside progressDetail ("[=====>      ]  1.05MB/2.15MB") for clients that print it as it is. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return `  ${decimalSize(current)}`;
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = filled >= width ? '='.repeat(width) + '>' : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${bar.slice(0, width + 1).padEnd(width + 1)}]  ${decimalSize(current)}/${decimalSize(total)}`;
}

interface Words {
  start: string;
  moving: string;
  done: string[];
  skipped: string;
}

const PULL: Words = { start: 'Pulling fs layer', moving: 'Downloading', done: ['Download complete', 'Pull complete'], skipped: 'Already exists' };
const PUSH: Words = { start: 'Preparing', moving: 'Pushing', done: ['Pushed'], skipped: 'Layer already exists' };

function layerSink(words: Words, emit: (m: JsonMessage) => void): ProgressSink {
  const sizes = new Map<string, number>();
  return (e: ProgressEvent) => {
    if (e.type === 'blob') {
      const id = shortLayerId(e.digest);
      if (e.state === 'start') {
        sizes.set(e.digest, e.size);
        emit({ status: words.start, progressDetail: {}, id });
      } else if (e.state === 'skipped') emit({ status: words.skipped, progressDetail: {}, id });
      else for (const status of words.done) emit({ status, progressDetail: {}, id });
    } else if (e.type === 'bytes') {
      const total = sizes.get(e.digest) ?? 0;
      emit({
        status: words.moving,
        progressDetail: { current: e.bytes, ...(total > 0 ? { total } : {}) },
        progress: progressBar(e.bytes, total),
        id: shortLayerId(e.digest),
      });
    }
  };
}

/** A pull's layer events as Docker's messages. */
export const pullProgress = (emit: (m: JsonMessage) => void): ProgressSink => layerSink(PULL, emit);

/** A push's layer events as Docker's messages. */
export const pushProgress = (emit: (m: JsonMessage) => void): ProgressSink => layerSink(PUSH, emit);

/** An error in the middle of a stream, as Docker ends one: the CLI prints `error` and exits with `code` (1 without one). */
export const errorMessage = (message: string, code?: number): JsonMessage => ({ errorDetail: { message, ...(code ? { code } : {}) }, error: message });
