import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthBin } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

/** Runs `berth build` with stdout on a pseudo-terminal (script -qec); the raw bytes it drew. */
async function buildOnTerminal(env: ContainerEnv, args: string): Promise<{ code: number | null; raw: string }> {
  const cmd = `stty cols 120 rows 40; ${berthBin} --root ${env.root} --runroot ${env.runRoot} build ${args}`;
  // stdin stays open while it runs: script turns an EOF on its input into a byte for the terminal.
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let raw = '';
  child.stdout.on('data', (d: Buffer) => (raw += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  child.stdin.end();
  return { code, raw };
}

/** What stays on the screen once the live lines are erased: each erase (cursor up N, clear to the end) drops the N lines before it. */
function screen(raw: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const token of raw.replace(/\r\n/g, '\n').split(/(\x1b\[\d*[A-Za-z]|\n|\r)/)) {
    if (token === '\n') {
      lines.push(current);
      current = '';
    } else if (token === '\r') {
      current = '';
    } else if (/^\x1b\[\d*A$/.test(token)) {
      lines.splice(lines.length - Number(token.slice(2, -1) || 1));
    } else if (!token.startsWith('\x1b[')) {
      current += token;
    }
  }
  if (current) lines.push(current);
  return lines;
}

describe('berth build on a terminal', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  let dir: string;
  before(async () => {
    env = await containerEnv();
    dir = join(env.dir, 'ctx');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Containerfile'), 'FROM busybox\nRUN echo hello-from-run\nENV A=1\n');
  });
  after(() => env.cleanup());

  it("numbers the steps, shows a live running line, the RUN output, and each step's outcome and time", async () => {
    const first = await buildOnTerminal(env, `-t tty ${dir}`);
    assert.equal(first.code, 0, first.raw);
    // Live: each step gets a "running" line, redrawn in place.
    assert.match(first.raw, /STEP 2\/3: RUN echo hello-from-run {2}running \d+\.\ds/);
    assert.match(first.raw, /\x1b\[1A\r\x1b\[J/);
    const lines = screen(first.raw);
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const step2 = at(/^STEP 2\/3: RUN echo hello-from-run$/);
    assert.ok(step2 > 0, lines.join('\n'));
    assert.equal(at(/^STEP 1\/3: FROM busybox$/), 0, lines.join('\n'));
    assert.ok(at(/^hello-from-run$/) > step2, 'the RUN output follows its step');
    const runDone = lines.findIndex((l, i) => i > step2 && /^--> [0-9a-f]{11} \(done \d+\.\ds\)$/.test(l));
    assert.ok(runDone > at(/^hello-from-run$/), lines.join('\n'));
    assert.match(lines[1]!, /^--> [0-9a-f]{11} \(done \d+\.\ds\)$/, 'FROM shows its base image');
    assert.ok(at(/^STEP 3\/3: ENV A=1$/) > step2);
    assert.ok(!lines.some((l) => / running \d/.test(l)), `no live line is left: ${lines.join('\n')}`);
    assert.match(lines.at(-1)!, /^[0-9a-f]{64}$/);

    const again = await buildOnTerminal(env, `-t tty ${dir}`);
    assert.equal(again.code, 0, again.raw);
    const cachedLines = screen(again.raw);
    assert.equal(cachedLines.filter((l) => /^--> [0-9a-f]{11} \(cached\)$/.test(l)).length, 2, cachedLines.join('\n'));
    assert.equal(cachedLines.filter((l) => /\(done /.test(l)).length, 1, 'only FROM, which is no cached step');
    assert.ok(!cachedLines.includes('hello-from-run'));
    assert.equal(cachedLines.at(-1), lines.at(-1), 'the same image');
  });

  it("keeps podman's plain lines when stdout is not a terminal", async () => {
    const r = await env.ok(['build', '-t', 'tty', dir]);
    assert.doesNotMatch(r.stdout, /\x1b\[|running|\(cached\)/);
    assert.match(r.stdout, /^STEP 2\/3: RUN echo hello-from-run\n--> Using cache [0-9a-f]{64}\n--> [0-9a-f]{11}\n/m);
  });
});
