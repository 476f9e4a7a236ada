import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { shellQuote, underPty } from './pty.js';

describe('pty', { timeout: 20_000 }, () => {
  test('words reach the command through script’s shell unchanged, quotes and $ included', () => {
    const words = ["it's", '$HOME', 'a b', '`x`', ''];
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    const { command, args, env } = underPty('printf', ['[%s]', ...words]);
    const r = spawnSync(command, args, { env, encoding: 'utf8', input: '' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, words.map((w) => `[${w}]`).join(''));
  });

  test('the command runs on a terminal, and script passes its exit code on', () => {
    const { command, args, env } = underPty('sh', ['-c', 'test -t 0 && test -t 1 && exit 7']);
    assert.equal(spawnSync(command, args, { env, input: '' }).status, 7);
  });
});
