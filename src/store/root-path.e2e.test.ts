import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { berthBin, tempDir, type RunResult } from '../testing/cli.js';

/** berth with a deadline: a command that spins (as --root /proc/self/x did) is killed, and the test says so. */
function berthWithin(ms: number, args: string[]): Promise<RunResult & { killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(berthBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, ms);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout: out, stderr: err, killed });
    });
  });
}

describe('a store root or run root berth cannot create fails at once with one error line', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());
  const file = join(tmp.path, 'a-file');
  writeFileSync(file, '');

  const cases: [string, string[], RegExp][] = [
    ['--root inside /proc/self', ['--root', '/proc/self/berth-root', 'images'], /^Error: mkdir \/proc\/self\/berth-root: no such file or directory\n$/],
    ['--root under a regular file', ['--root', join(file, 'root'), 'images'], /^Error: mkdir .*a-file\/root\S*: not a directory\n$/],
    [
      '--runroot inside /proc/self',
      ['--root', join(tmp.path, 'root'), '--runroot', '/proc/self/berth-run', 'ps', '-a'],
      /^Error: mkdir \/proc\/self\/berth-run: no such file or directory\n$/,
    ],
  ];
  for (const [what, args, error] of cases) {
    it(what, async () => {
      const r = await berthWithin(15_000, args);
      assert.equal(r.killed, false, 'berth spun until killed');
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, error);
    });
  }
});
