import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makePayload, parsePayload } from './simple-signing.js';

const DIGEST = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const valid = () => ({
  critical: {
    identity: { 'docker-reference': 'docker.io/library/busybox:latest' },
    image: { 'docker-manifest-digest': DIGEST },
    type: 'atomic container signature',
  },
  optional: { creator: 'someone', timestamp: 1458239713 },
});

describe('simple-signing payload', { timeout: 10_000 }, () => {
  it('is written as containers/image writes it (key order, creator, integer timestamp)', () => {
    const bytes = makePayload(
      { dockerReference: 'docker.io/library/busybox:latest', manifestDigest: DIGEST },
      { creator: 'berth 0.1.0', timestamp: 1700000000.7 },
    );
    assert.equal(
      new TextDecoder().decode(bytes),
      `{"critical":{"identity":{"docker-reference":"docker.io/library/busybox:latest"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"atomic container signature"},"optional":{"creator":"berth 0.1.0","timestamp":1700000000}}`,
    );
    assert.deepEqual(parsePayload(bytes), {
      dockerReference: 'docker.io/library/busybox:latest',
      manifestDigest: DIGEST,
      creator: 'berth 0.1.0',
      timestamp: 1700000000,
    });
  });

  it('parses a valid payload and tolerates unknown optional fields and an empty optional', () => {
    const doc = valid();
    (doc.optional as Record<string, unknown>).extra = [1, 2];
    assert.equal(parsePayload(enc(doc)).dockerReference, 'docker.io/library/busybox:latest');
    assert.deepEqual(parsePayload(enc({ ...valid(), optional: {} })), { dockerReference: 'docker.io/library/busybox:latest', manifestDigest: DIGEST });
  });

  const bad: [string, (d: ReturnType<typeof valid>) => unknown, RegExp][] = [
    ['not JSON', () => 'This is not JSON', /not JSON/],
    ['an array', () => [], /not a JSON object/],
    ['no optional', (d) => ({ critical: d.critical }), /no "optional"/],
    ['an unknown top-level field', (d) => ({ ...d, extra: 1 }), /unknown field "extra"/],
    ['an unknown critical field', (d) => ({ ...d, critical: { ...d.critical, extra: 1 } }), /unknown field "extra" in critical/],
    ['no critical.identity', (d) => ({ ...d, critical: { type: d.critical.type, image: d.critical.image } }), /critical has no "identity"/],
    ['another type', (d) => ({ ...d, critical: { ...d.critical, type: 'other' } }), /unrecognized signature type/],
    ['a non-string reference', (d) => ({ ...d, critical: { ...d.critical, identity: { 'docker-reference': 1 } } }), /docker-reference is not a string/],
    ['an extra identity field', (d) => ({ ...d, critical: { ...d.critical, identity: { 'docker-reference': 'a', x: 'b' } } }), /unknown field "x"/],
    ['a bad digest', (d) => ({ ...d, critical: { ...d.critical, image: { 'docker-manifest-digest': 'sha256:xyz' } } }), /not a digest/],
    ['a fractional timestamp', (d) => ({ ...d, optional: { timestamp: 1.5 } }), /timestamp is not an integer/],
    ['a creator that is not a string', (d) => ({ ...d, optional: { creator: 3 } }), /creator is not a string/],
  ];
  it('refuses a field given twice where containers/image decodes strictly, and not inside an unknown optional field', () => {
    const text = JSON.stringify(valid());
    const twiceRef = text.replace(
      '"docker-reference":"docker.io/library/busybox:latest"',
      '"docker-reference":"a","docker-reference":"docker.io/library/busybox:latest"',
    );
    assert.throws(() => parsePayload(enc(twiceRef)), /duplicate field "critical\/identity\/docker-reference"/);
    const twiceCritical = text.replace('"optional":', '"critical":{},"optional":');
    assert.throws(() => parsePayload(enc(twiceCritical)), /duplicate field "critical"/);
    const lenient = text.replace('"creator":', '"extra":{"a":1,"a":[{"b":"}","b":2}]},"creator":');
    assert.equal(parsePayload(enc(lenient)).creator, 'someone');
  });

  for (const [what, make, message] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => parsePayload(enc(make(valid()))),
        (e: Error) => message.test(e.message) && /^invalid signature payload: /.test(e.message),
      );
    });
  }
});
