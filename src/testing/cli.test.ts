import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { processGone, run } from './cli.js';

describe('run()', { timeout: 30_000 }, () => {
  test('a command that overruns its timeout is killed with what it started, and the run fails with its output', async () => {
    // The background sleep holds the output pipes open, as a `zstd -d` waiting for input did.
    const started = Date.now();
    const err = await run('sh', ['-c', 'sleep 300 & echo "child $!"; sleep 301'], { timeoutMs: 500 }).then(
      () => assert.fail('run() resolved'),
      (e: Error) => e,
    );
    assert.ok(Date.now() - started < 10_000);
    assert.match(err.message, /did not finish in 0.5 s/);
    const pid = Number(/child (\d+)/.exec(err.message)?.[1]);
    assert.ok(pid > 0, err.message);
    for (let i = 0; i < 50 && !processGone(pid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(processGone(pid), `the background child ${pid} still runs`);
  });

  test('a command within its timeout gives its output and exit code', async () => {
    const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 10_000 });
    assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  });
});
