import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { fixture } from '../testing/fixtures.js';
import { simpleSigningVerifier, verifySimpleSigning } from './gpg.js';

const fx = (name: string) => fixture('containers-image', 'signature', 'fixtures', name);
const sig = (name: string) => new Uint8Array(readFileSync(fx(name)));
const keys = { keyPaths: [fx('public-key.gpg')] };
const leftovers = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('berth-gpg-'));

describe('GPG simple-signing verification (containers/image fixtures)', { timeout: 60_000 }, () => {
  it("verifies image.signature with public-key.gpg and returns the claim naming image.manifest.json's digest", async () => {
    const before = await leftovers();
    const claim = await simpleSigningVerifier(sig('image.signature'), keys);
    assert.deepEqual(claim, { dockerReference: 'testing/manifest', manifestDigest: digestOf(readFileSync(fx('image.manifest.json'))) });
    const full = await verifySimpleSigning(sig('image.signature'), keys);
    assert.equal(full.keyFingerprint, '08CD26E446E2E95249B7A405E932F44B23E8DD43');
    assert.equal(full.payload.creator, 'atomic ');
    // The temporary GNUPGHOME is gone.
    assert.deepEqual(await leftovers(), before);
  });

  it('takes the key as keyData (binary) too, and a keyring among several paths', async () => {
    const claim = await simpleSigningVerifier(sig('image.signature'), { keyData: new Uint8Array(readFileSync(fx('public-key.gpg'))) });
    assert.equal(claim.dockerReference, 'testing/manifest');
    const both = await simpleSigningVerifier(sig('image.signature'), { keyPaths: [fx('public-key-2.gpg'), fx('public-key.gpg')] });
    assert.equal(both.dockerReference, 'testing/manifest');
  });

  it("verifies a signature made by a subkey of a requirement's key", async () => {
    const v = await verifySimpleSigning(sig('subkey.signature'), { keyPaths: [fx('public-key-with-subkey.gpg')] });
    assert.match(v.payload.manifestDigest, /^sha256:/);
  });

  const failures: [string, object, RegExp][] = [
    ['image.signature', { keyPaths: [fx('public-key-2.gpg')] }, /signed by an unknown key/],
    ['unknown-key.signature', keys, /signed by an unknown key/],
    ['corrupt.signature', keys, /invalid signature/],
    ['expired.signature', keys, /expired/],
    ['invalid-blob.signature', keys, /invalid signature payload: not JSON/],
    ['unsigned-literal.signature', keys, /not signed/],
    ['unsigned-encrypted.signature', keys, /not a signature|not signed/],
  ];
  for (const [name, k, message] of failures) {
    it(`refuses ${name}${name === 'image.signature' ? ' against another key' : ''}`, async () => {
      const before = await leftovers();
      await assert.rejects(simpleSigningVerifier(sig(name), k as never), (e: Error) => {
        assert.match(e.message, message);
        return true;
      });
      assert.deepEqual(await leftovers(), before);
    });
  }

  it('refuses random bytes and a missing key file, and needs keys', async () => {
    await assert.rejects(simpleSigningVerifier(new Uint8Array([1, 2, 3, 4]), keys), /not signed|invalid signature/);
    await assert.rejects(simpleSigningVerifier(sig('image.signature'), { keyPaths: ['/nonexistent/key.gpg'] }), /reading the keys in \/nonexistent\/key.gpg/);
    await assert.rejects(simpleSigningVerifier(sig('image.signature'), {}), /no GPG keys/);
    await assert.rejects(simpleSigningVerifier(sig('image.signature'), { keyData: new TextEncoder().encode('not a key') }), /no GPG key could be read/);
  });
});
