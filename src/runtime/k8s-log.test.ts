import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLogChunk, parseLogLine, tailEntries } from './k8s-log.js';

describe('k8s-file log', () => {
  it('parses full and partial lines with their streams', () => {
    assert.deepEqual(parseLogLine('2026-11-23T03:09:18.061249957+00:00 stdout F hello world'), {
      time: '2026-11-23T03:09:18.061249957+00:00',
      stream: 'stdout',
      full: true,
      text: 'hello world',
    });
    assert.deepEqual(parseLogLine('2026-11-23T03:09:18Z stderr P part'), { time: '2026-11-23T03:09:18Z', stream: 'stderr', full: false, text: 'part' });
    assert.deepEqual(parseLogLine('2026-11-23T03:09:18Z stdout F'), { time: '2026-11-23T03:09:18Z', stream: 'stdout', full: true, text: '' });
    assert.equal(parseLogLine('garbage'), undefined);
  });

  it('keeps an unfinished last line for the next read', () => {
    const { entries, rest } = parseLogChunk('t stdout F a\nt stdout F b\nt std');
    assert.deepEqual(
      entries.map((e) => e.text),
      ['a', 'b'],
    );
    assert.equal(rest, 't std');
  });

  it('tails whole lines, partial entries included', () => {
    const { entries } = parseLogChunk('t stdout F 1\nt stdout P 2a\nt stdout F 2b\nt stdout F 3\n');
    assert.deepEqual(
      tailEntries(entries, 2).map((e) => e.text),
      ['2a', '2b', '3'],
    );
    assert.deepEqual(tailEntries(entries, 0), []);
    assert.equal(tailEntries(entries, -1).length, 4);
    assert.equal(tailEntries(entries, 10).length, 4);
  });
});
