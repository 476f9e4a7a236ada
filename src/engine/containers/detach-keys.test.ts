import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DetachScanner, parseDetachKeys, typedDetachKeys } from './detach-keys.js';

describe('detach keys', { timeout: 10_000 }, () => {
  it("parses podman's syntax: ctrl-<c> and single characters, comma-separated", () => {
    assert.deepEqual([...parseDetachKeys(undefined)], [0x10, 0x11]);
    assert.deepEqual([...parseDetachKeys('ctrl-x,y')], [0x18, 0x79]);
    assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-_,a')], [0, 0x1b, 0x1f, 0x61]);
    assert.equal(parseDetachKeys('').length, 0);
  });

  it('refuses what podman refuses, with its message', () => {
    for (const bad of ['foo', 'ctrl-1', 'ctrl-A', 'ab', ',', 'ctrl-']) {
      assert.throws(
        () => parseDetachKeys(bad),
        (e: Error) => e.message.startsWith("invalid detach keys: Unknown character: '"),
        bad,
      );
    }
    assert.throws(() => parseDetachKeys('ctrl-1'), { message: "invalid detach keys: Unknown character: 'ctrl-1'" });
  });

  it('detaches on the sequence, split across chunks, and passes everything else on', () => {
    const s = new DetachScanner(parseDetachKeys(undefined));
    assert.deepEqual(s.feed(Buffer.from('ab\x10')), { pass: Buffer.from('ab'), detach: false });
    assert.deepEqual(s.feed(Buffer.from('\x11rest')), { pass: Buffer.alloc(0), detach: true });
  });

  it('gives back held bytes when the sequence breaks, and restarts on a new first key', () => {
    const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
    assert.deepEqual(s.feed(Buffer.from('\x10x')), { pass: Buffer.from('\x10x'), detach: false });
    assert.deepEqual(s.feed(Buffer.from('\x10\x10')), { pass: Buffer.from('\x10'), detach: false });
    assert.deepEqual(s.feed(Buffer.from('\x11')), { pass: Buffer.alloc(0), detach: true });
  });

  it('passes everything when detaching is off', () => {
    const s = new DetachScanner(parseDetachKeys(''));
    assert.deepEqual(s.feed(Buffer.from('\x10\x11')), { pass: Buffer.from('\x10\x11'), detach: false });
  });

  it('watches for them only on a terminal: piped bytes are data', () => {
    const keys = parseDetachKeys(undefined);
    assert.deepEqual(typedDetachKeys(keys, true), Buffer.from([0x10, 0x11]));
    assert.deepEqual(typedDetachKeys(keys, false), Buffer.alloc(0));
    assert.deepEqual(typedDetachKeys(undefined, true), Buffer.alloc(0));
  });
});
