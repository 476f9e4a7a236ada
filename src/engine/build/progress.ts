import { BerthError } from '../../util/errors.js';

/**
 * Writes whole lines only, each with `prefix`: the output of stages building side by side stays
 * attributable. `flush` writes a last unterminated line.
 */
export function lineWriter(prefix: string, out: (text: string) => void): { write: (text: string) => void; flush: () => void } {
  let partial = '';
  return {
    write(text) {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      if (lines.length) out(lines.map((l) => `${prefix}${l}\n`).join(''));
    },
    flush() {
      if (partial) out(`${prefix}${partial}\n`);
      partial = '';
    },
  };
}

/**
 * A failed step's error with the step named, as podman words it (and scripts match): the base
 * image's as "creating build container: …", any other as `building at STEP "…": …`. The code and
 * exit code stay; an interrupted build and an already named step are left as they are.
 */
export function stepError(e: unknown, n: number, text: string): unknown {
  // A Dockerfile mistake is the file's, not a step's: buildah reports it before any step runs.
  if (!(e instanceof BerthError) || e.exitCode === 130 || e.code === 'DOCKERFILE_INVALID' || e.message.startsWith('building at STEP ')) return e;
  const message = n === 1 ? `creating build container: ${e.message}` : `building at STEP "${text}": ${e.message}`;
  return new BerthError(e.code, message, { cause: e, temporary: e.temporary, exitCode: e.exitCode });
}
