import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dockerLogTime, logChunk, parseLogTime, parseTail } from './docker-log.js';

describe('docker-log', { timeout: 10_000 }, () => {
  test('conmon times become UTC with Z, nanoseconds kept', () => {
    assert.equal(dockerLogTime('2026-12-03T14:30:10.123456789+00:00'), '2026-12-03T14:30:10.123456789Z');
    assert.equal(dockerLogTime('2026-12-03T15:30:10.5+01:00'), '2026-12-03T14:30:10.5Z');
    assert.equal(dockerLogTime('2026-12-03T14:30:10Z'), '2026-12-03T14:30:10Z');
  });

  test('an entry framed by its stream, raw with a TTY, stamped when asked', () => {
    const e = { time: '2026-12-03T14:30:10.1+00:00', stream: 'stderr' as const, full: true, text: 'oops' };
    assert.deepEqual(logChunk(e, { timestamps: false, tty: false }), Buffer.from([2, 0, 0, 0, 0, 0, 0, 5, ...Buffer.from('oops\n')]));
    assert.equal(logChunk(e, { timestamps: true, tty: true }).toString(), '2026-12-03T14:30:10.1Z oops\n');
    assert.equal(logChunk({ ...e, full: false }, { timestamps: false, tty: true }).toString(), 'oops');
  });

  test('since/until and tail as the CLI sends them', () => {
    assert.equal(parseLogTime('0', 'since'), undefined);
    assert.equal(parseLogTime(undefined, 'since'), undefined);
    assert.equal(parseLogTime('1700000000.500000000', 'since'), 1700000000500);
    assert.throws(() => parseLogTime('yesterday', 'until'), /invalid value for "until"/);
    assert.equal(parseTail('all'), -1);
    assert.equal(parseTail(undefined), -1);
    assert.equal(parseTail('3'), 3);
    assert.throws(() => parseTail('x'), /invalid value for "tail"/);
  });
});
