import { BerthError } from '../../util/errors.js';

/** podman's default: ctrl-p then ctrl-q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The control characters podman (moby's term.ToBytes) names: ctrl-@ is 0, ctrl-a 1 … ctrl-_ 31. */
const CTRL_NAMES = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/**
 * The bytes of a `--detach-keys` sequence: comma-separated single characters or `ctrl-<c>`
 * (`c` one of a-z @ [ \ ] ^ _), as podman takes them. An empty string turns detaching off.
 */
export function parseDetachKeys(spec: string | undefined): Buffer {
  if (spec === undefined) spec = DEFAULT_DETACH_KEYS;
  if (spec === '') return Buffer.alloc(0);
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) bytes.push(key.charCodeAt(0));
    else if (key.startsWith('ctrl-') && key.length === 6 && CTRL_NAMES.includes(key[5]!)) bytes.push(CTRL_NAMES.indexOf(key[5]!));
    else throw new BerthError('USAGE', `invalid detach keys: Unknown character: '${key}'`);
  }
  return Buffer.from(bytes);
}

/**
 * The detach sequence to watch for: only what is typed on a terminal (the process's own, or the
 * caller's) counts, as docker and podman have it. Bytes piped in (`run -i < file`, `exec -i ctr dd
 * of=F < F`) pass untouched: a ctrl-p ctrl-q pair in them is data, not a request to leave.
 */
export function typedDetachKeys(keys: Buffer | undefined, onTerminal: boolean): Buffer {
  return onTerminal && keys ? keys : Buffer.alloc(0);
}

/**
 * Watches the bytes typed for the detach sequence. What could begin the sequence is held back
 * until the next bytes show whether it does; anything else passes through unchanged.
 */
export class DetachScanner {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  /** The bytes to pass on, and whether the sequence is complete (bytes after it are dropped). */
  feed(chunk: Buffer): { pass: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { pass: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      // A broken sequence: what was held back goes on, and this byte may start a new one.
      if (this.matched > 0) {
        out.push(...this.keys.subarray(0, this.matched));
        this.matched = 0;
      }
      if (b !== this.keys[0]) out.push(b);
      else if (++this.matched === this.keys.length) return { pass: Buffer.from(out), detach: true };
    }
    return { pass: Buffer.from(out), detach: false };
  }
}
