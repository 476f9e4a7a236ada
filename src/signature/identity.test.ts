import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatReference, parseNormalizedNamed } from '../oci/reference.js';
import { fixture } from '../testing/fixtures.js';
import { isValidRemapPrefix, matchesSignedIdentity, refMatchesPrefix, remapReferencePrefix, type SignedIdentity } from './identity.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const expectations = JSON.parse(readFileSync(fixture('containers-image', 'policy-expectations.json'), 'utf8'));
const cases = (section: string, count: number): any[] => {
  const list = expectations[section].cases as any[];
  assert.equal(list.length, count, `${section}: the fixture's case count`);
  return list;
};
const match = (type: SignedIdentity['type'], image: string, signature: string) => matchesSignedIdentity({ type } as SignedIdentity, image, signature);

describe('signedIdentity matchers (policy-expectations.json)', { timeout: 30_000 }, () => {
  describe('matchExact (symmetric)', () => {
    for (const c of cases('matchExact', 25)) {
      it(`${c.refA} ~ ${c.refB} → ${c.result}`, () => {
        assert.equal(match('matchExact', c.refA, c.refB), c.result);
        assert.equal(match('matchExact', c.refB, c.refA), c.result);
      });
    }
  });

  describe('matchRepository (symmetric)', () => {
    for (const c of cases('matchRepository', 31)) {
      it(`${c.refA} ~ ${c.refB} → ${c.result}`, () => {
        assert.equal(match('matchRepository', c.refA, c.refB), c.result);
        assert.equal(match('matchRepository', c.refB, c.refA), c.result);
      });
    }
  });

  describe('matchRepoDigestOrExact', () => {
    for (const c of cases('matchRepoDigestOrExact', 20)) {
      it(`image ${c.imageRef}, signature ${c.sigRef} → ${c.result}`, () => {
        assert.equal(match('matchRepoDigestOrExact', c.imageRef, c.sigRef), c.result);
      });
    }
    it('accepts every matchExact match and refuses every matchRepository mismatch', () => {
      for (const c of expectations.matchExact.cases) if (c.result) assert.equal(match('matchRepoDigestOrExact', c.refA, c.refB), true, `${c.refA} ${c.refB}`);
      for (const c of expectations.matchRepository.cases)
        if (!c.result) assert.equal(match('matchRepoDigestOrExact', c.refA, c.refB), false, `${c.refA} ${c.refB}`);
    });
  });

  describe('remapIdentity: refMatchesPrefix', () => {
    for (const c of cases('remapIdentityRefMatchesPrefix', 30)) {
      it(`${c.ref} under ${c.prefix} → ${c.expected}`, () => {
        assert.equal(refMatchesPrefix(parseNormalizedNamed(c.ref), c.prefix), c.expected);
      });
    }
  });

  describe('remapIdentity: remapReferencePrefix', () => {
    for (const c of cases('remapIdentityRemapReferencePrefix', 18)) {
      it(`${c.ref}: ${c.prefix} → ${c.signedPrefix} = ${c.expected || 'error'}`, () => {
        const ref = parseNormalizedNamed(c.ref);
        if (c.expected === '') assert.throws(() => remapReferencePrefix(ref, c.prefix, c.signedPrefix), { code: 'INVALID_REFERENCE' });
        else assert.equal(formatReference(remapReferencePrefix(ref, c.prefix, c.signedPrefix)), c.expected);
      });
    }
  });

  describe('remapIdentity: matches', () => {
    for (const c of cases('remapIdentityMatches', 12)) {
      it(`image ${c.imageRef} (${c.prefix} → ${c.signedPrefix}), signature ${c.sigRef} → ${c.result}`, () => {
        assert.equal(matchesSignedIdentity({ type: 'remapIdentity', prefix: c.prefix, signedPrefix: c.signedPrefix }, c.imageRef, c.sigRef), c.result);
      });
    }
  });

  it('exactReference and exactRepository ignore the image, even one with no docker reference', () => {
    const ref: SignedIdentity = { type: 'exactReference', dockerReference: 'registry.example/app:1' };
    assert.equal(matchesSignedIdentity(ref, undefined, 'registry.example/app:1'), true);
    assert.equal(matchesSignedIdentity(ref, 'busybox:latest', 'registry.example/app:2'), false);
    assert.equal(matchesSignedIdentity(ref, undefined, 'registry.example/app'), false);
    const repo: SignedIdentity = { type: 'exactRepository', dockerRepository: 'registry.example/app' };
    assert.equal(matchesSignedIdentity(repo, undefined, 'registry.example/app:any'), true);
    assert.equal(matchesSignedIdentity(repo, 'registry.example/app:1', 'registry.example/other:1'), false);
    // The image-relative matchers cannot accept an image that has no docker reference.
    assert.equal(matchesSignedIdentity({ type: 'matchRepository' }, undefined, 'registry.example/app:1'), false);
  });

  it('remap prefixes: a registry, or a repository that starts with one', () => {
    for (const ok of ['example.com', 'example.com:5000', 'example.com/ns', 'localhost/x', 'docker.io/library']) assert.equal(isValidRemapPrefix(ok), true, ok);
    for (const bad of ['', 'example.com/', 'Example.com/NS', 'http://example.com', 'example.com/ns:tag', 'example.com/ns@sha256:0'])
      assert.equal(isValidRemapPrefix(bad), false, bad);
  });
});
