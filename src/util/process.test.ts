import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { waitFor } from '../testing/wait.js';
import { isPidAlive, isPidRunning } from './process.js';

describe('isPidRunning', { timeout: 20_000 }, () => {
  it('is true for a running process, false for one that is gone', () => {
    assert.equal(isPidRunning(process.pid), true);
    assert.equal(isPidRunning(0), false);
    assert.equal(isPidRunning(2 ** 22 + 1), false);
  });

  it('is false for a zombie, which isPidAlive still sees', async () => {
    // The shell's background child ends after the shell has exec'd into `sleep`, which never reaps
    // it. (A child that ended before the exec could be reaped by the shell first: it was, once.)
    const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombie = Number(line.toString().trim());
      await waitFor('the child to end', () => (isPidRunning(zombie) ? undefined : true), 10_000);
      assert.equal(isPidAlive(zombie), true, 'a zombie still has its PID');
      assert.equal(isPidRunning(zombie), false);
    } finally {
      parent.kill('SIGKILL');
      await once(parent, 'exit');
    }
  });
});
