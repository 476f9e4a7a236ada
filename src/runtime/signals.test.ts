import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSignal, signalName } from './signals.js';

describe('parseSignal, as podman reads kill -s and --stop-signal', { timeout: 5_000 }, () => {
  test('names in any case, with or without SIG', () => {
    for (const s of ['TERM', 'SIGTERM', 'sigterm', 'Sigterm', 'term']) assert.equal(parseSignal(s), 15);
    assert.equal(parseSignal('KILL'), 9);
    assert.equal(parseSignal('hup'), 1);
    assert.equal(parseSignal('WINCH'), 28);
    // podman's aliases
    assert.equal(parseSignal('CLD'), 17);
    assert.equal(parseSignal('SIGIOT'), 6);
    assert.equal(parseSignal('POLL'), 29);
  });

  test('real-time signals as kill -l names them', () => {
    assert.equal(parseSignal('RTMIN'), 34);
    assert.equal(parseSignal('SIGRTMIN+3'), 37);
    assert.equal(parseSignal('rtmin+15'), 49);
    assert.equal(parseSignal('RTMAX-14'), 50);
    assert.equal(parseSignal('SIGRTMAX-1'), 63);
    assert.equal(parseSignal('RTMAX'), 64);
    for (const s of ['RTMIN+0', 'RTMIN+16', 'RTMAX-15', 'RTMIN+01']) assert.throws(() => parseSignal(s), { message: `invalid signal: ${s}` });
  });

  test('numbers from 1 to 64', () => {
    assert.equal(parseSignal('9'), 9);
    assert.equal(parseSignal('01'), 1);
    assert.equal(parseSignal('64'), 64);
    assert.throws(() => parseSignal('0'), { message: 'invalid signal: 0' });
    assert.throws(() => parseSignal('65'), { message: 'valid signals are 1 through 64' });
    assert.throws(() => parseSignal('-65'), { message: 'valid signals are 1 through 64' });
    assert.throws(() => parseSignal('99999999'), { message: 'valid signals are 1 through 64' });
  });

  test('one leading dash is dropped, as kill(1) users write it, and not named in errors', () => {
    assert.equal(parseSignal('-9'), 9);
    assert.equal(parseSignal('-1'), 1);
    assert.equal(parseSignal('-SIGHUP'), 1);
    assert.equal(parseSignal('-term'), 15);
    for (const [s, shown] of [
      ['-0', '0'],
      ['-SIGBADSIG', 'SIGBADSIG'],
      ['-SIG', 'SIG'],
      ['-', ''],
    ]) {
      assert.throws(() => parseSignal(s!), { message: `invalid signal: ${shown}` }, s);
    }
  });

  test('anything else is an invalid signal, named as given', () => {
    for (const s of ['FOO', 'sigfoo', ' HUP', 'HUP9', 'SIGUNUSED', '1.0', '0x1', '', 'SIG', 'BADSIG', '%%', '!', "''", '""', 'constructor', '__proto__']) {
      assert.throws(() => parseSignal(s), { message: `invalid signal: ${s}` });
    }
  });
});

test('signalName: the name Go gives a signal, for messages', { timeout: 5_000 }, () => {
  assert.equal(signalName('SIGTERM'), 'SIGTERM');
  assert.equal(signalName('usr1'), 'SIGUSR1');
  assert.equal(signalName('9'), 'SIGKILL');
  assert.equal(signalName('IOT'), 'SIGABRT');
  assert.equal(signalName('bogus'), 'bogus');
});
