import type { StepEvent } from '../engine/build/index.js';

const ESC = '\x1b[';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 11);

/**
 * `berth build` on a terminal: the STEP lines and the RUN output scroll as in the plain output,
 * and below them one live line per running step (`STEP 3/7: RUN make  running 4.2s`), redrawn in
 * place with plain ANSI (cursor up, clear to the end of the screen). A step that ends leaves
 * `--> ID (done 1.2s)` or `--> ID (cached)` behind. Output arrives whole lines at a time so that the
 * live lines are never cut in half; a partial line waits for its end (or for stop()).
 */
export function buildProgress(stream: NodeJS.WriteStream): { out: (text: string) => void; onStep: (e: StepEvent) => void; stop: () => void } {
  const active = new Map<string, { line: string; started: number }>();
  let drawn = 0;
  let partial = '';
  const width = () => Math.max(20, (stream.columns || 80) - 1);
  const clear = () => {
    if (drawn > 0) stream.write(`${ESC}${drawn}A\r${ESC}J`);
    drawn = 0;
  };
  const draw = () => {
    const now = Date.now();
    const lines = [...active.values()].map(({ line, started }) => {
      const status = `  running ${seconds(now - started)}`;
      const room = width() - status.length;
      return `${line.length > room ? `${line.slice(0, Math.max(0, room - 1))}…` : line}${status}`;
    });
    if (lines.length) stream.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  /** Permanent text goes above the live lines. */
  const print = (text: string) => {
    clear();
    stream.write(text);
    draw();
  };
  const timer = setInterval(() => {
    if (active.size === 0) return;
    clear();
    draw();
  }, 100);
  timer.unref();
  return {
    out(text) {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      if (lines.length) print(`${lines.join('\n')}\n`);
    },
    onStep(e) {
      const key = `${e.stage}${e.step}`;
      const line = `${e.stage}STEP ${e.step}/${e.steps}: ${e.text}`;
      if (e.state === 'running') {
        print(`${line}\n`);
        active.set(key, { line, started: Date.now() });
        clear();
        draw();
        return;
      }
      active.delete(key);
      const tail = partial ? `${partial}\n` : '';
      partial = '';
      const id = e.id ? `${short(e.id)} ` : '';
      const what = e.state === 'cached' ? 'cached' : `${e.state} ${seconds(e.ms ?? 0)}`;
      print(`${tail}${e.stage}--> ${id}(${what})\n`);
    },
    stop() {
      clearInterval(timer);
      clear();
      if (partial) stream.write(`${partial}\n`);
      partial = '';
      active.clear();
    },
  };
}
