import type * as Crypto from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

let loaded: typeof Crypto | undefined;

/**
 * node:crypto, loaded where it is first used instead of wherever a module that may use it is
 * imported: Node compiles its internal modules on load (about 5 ms per process here), and most
 * commands on a container (rm, stop, ps, inspect) never hash.
 */
export function nodeCrypto(): typeof Crypto {
  loaded ??= process.getBuiltinModule('node:crypto');
  return loaded;
}

/** Random bytes read ahead from the kernel, served from here until used up. */
let pool: Buffer = Buffer.alloc(0);
let used = 0;
const POOL_SIZE = 4096;

/**
 * `n` random bytes from the kernel's generator (the source node:crypto's randomBytes draws on
 * too), read from /dev/urandom: IDs and temp names need no more, and reading a few bytes costs
 * nothing where loading node:crypto for them costs its 5 ms. Read 4 KiB at a time, as Node pools
 * its own: a `kube play` takes ~50 (every atomic write's temp name, every lock), each an open, a
 * read and a close on the main thread before.
 */
export function randomBytes(n: number): Buffer {
  if (n > POOL_SIZE) return readUrandom(n);
  if (used + n > pool.length) {
    pool = readUrandom(POOL_SIZE);
    used = 0;
  }
  // A copy: the caller may keep or change it, and no two callers share bytes.
  const out = Buffer.from(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}

function readUrandom(n: number): Buffer {
  const out = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < n; ) got += readSync(fd, out, got, n - got, null);
  } finally {
    closeSync(fd);
  }
  return out;
}

/** A uniform random integer in [0, max), 0 < max ≤ 2^32 (rejection sampling, no modulo bias). */
export function randomInt(max: number): number {
  const limit = 2 ** 32 - (2 ** 32 % max);
  for (;;) {
    const v = randomBytes(4).readUInt32BE(0);
    if (v < limit) return v % max;
  }
}
