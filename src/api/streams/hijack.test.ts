import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { muxFrame, STDERR, streamContentType } from './hijack.js';

describe('Docker stream framing', { timeout: 10_000 }, () => {
  test('a frame is the stream, three zeros, the big-endian size, the bytes', () => {
    assert.deepEqual([...muxFrame(STDERR, Buffer.from('hi'))], [2, 0, 0, 0, 0, 0, 0, 2, 0x68, 0x69]);
  });

  test('the content type names the multiplexed form from API 1.42, and a terminal is raw', () => {
    assert.equal(streamContentType('1.41', false), 'application/vnd.docker.raw-stream');
    assert.equal(streamContentType('1.42', false), 'application/vnd.docker.multiplexed-stream');
    assert.equal(streamContentType('1.47', true), 'application/vnd.docker.raw-stream');
  });
});
