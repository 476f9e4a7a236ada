import { open } from 'node:fs/promises';
import { BerthError } from './errors.js';

const MiB = 1024 * 1024;

/**
 * The most berth reads whole into memory of what an image's source hands it: the limits of
 * containers/image (podman, skopeo), which take the distribution registry's 4 MiB for manifests
 * and the same for configs. A real config of even thousands of layers is well under 1 MiB; a
 * larger one is a mistake or an attack (a 150 MB config once cost 822 MB of memory) and is refused
 * before it is read.
 */
export const MaxBytes = {
  /** An image manifest or index, a layout's index.json, a docker-archive's manifest.json. */
  manifest: 4 * MiB,
  /** An image config. */
  config: 4 * MiB,
} as const;

/** The one error for anything over its limit: `what` names it (with its place), as the user would look for it. */
export function tooLargeError(what: string, size: number | undefined, max: number): BerthError {
  const saying = size === undefined ? 'is larger than' : `is ${formatSize(size)}, more than`;
  return new BerthError('IO', `${what} ${saying} the ${formatSize(max)} berth accepts`);
}

function formatSize(n: number): string {
  if (n < MiB) return `${n} bytes`;
  const mib = n / MiB;
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}

/**
 * Reads a file whole, refusing it (tooLargeError) when it holds more than `max` bytes: checked
 * from its size before reading, and by count while reading (a FIFO has no size).
 */
export async function readFileAtMost(path: string, max: number, what: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.isFile() && st.size > max) throw tooLargeError(what, st.size, max);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(max + 1 - total, 1024 * 1024) || 1);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) throw tooLargeError(what, undefined, max);
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await fh.close();
  }
}
