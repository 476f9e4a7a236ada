/** V8's `gc()`: a collection of the young generation (`minor`, about 1 ms here) or of the whole heap. */
export type Collect = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let collect: Collect | null | undefined;

/**
 * V8's `gc()` without starting Node with `--expose-gc`: V8 reads the flag when it makes a context,
 * so one made while the flag is set has `gc`, and the flag is reset at once (contexts made later,
 * and Node's compile cache, see the flags as they were). Node warns that flags set at run time may
 * misbehave; where this one does not take, the answer is null and nothing is collected early.
 * node:v8 and node:vm are loaded here, at the first call, not with the module (~2 ms a process).
 */
export function collector(): Collect | null {
  if (collect === undefined) {
    const { setFlagsFromString } = process.getBuiltinModule('node:v8');
    try {
      setFlagsFromString('--expose-gc');
      collect = process.getBuiltinModule('node:vm').runInNewContext('gc') as Collect;
    } catch {
      collect = null;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return collect;
}
