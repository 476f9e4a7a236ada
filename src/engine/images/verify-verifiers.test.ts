import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SignedClaim, Verifiers } from '../../signature/types.js';
import { rememberingVerifiers } from './admission.js';

describe("image verify's verifiers", { timeout: 10_000 }, () => {
  test('check each signature once per key, for the report and the decision alike', async () => {
    const calls: string[] = [];
    const claim: SignedClaim = { manifestDigest: 'sha256:00', dockerReference: 'example.com/a:b' };
    const real: Verifiers = {
      simpleSigning: async (bytes, keys) => {
        calls.push(`gpg ${Buffer.from(bytes).toString()} ${JSON.stringify(keys)}`);
        if (keys.keyPaths?.[0] === 'bad') throw new Error('signed by an unknown key');
        return claim;
      },
      sigstore: async (sig, key) => {
        calls.push(`sigstore ${Buffer.from(sig.payload).toString()} ${JSON.stringify(key)}`);
        return claim;
      },
    };
    const v = rememberingVerifiers(real);
    const sig1 = new Uint8Array(Buffer.from('one'));
    const sig2 = new Uint8Array(Buffer.from('two'));
    const payload = new Uint8Array(Buffer.from('p'));
    assert.equal(await v.simpleSigning(sig1, { keyPaths: ['k'] }), claim);
    assert.equal(await v.simpleSigning(sig1, { keyPaths: ['k'] }), claim);
    await assert.rejects(v.simpleSigning(sig1, { keyPaths: ['bad'] }), /unknown key/);
    await assert.rejects(v.simpleSigning(sig1, { keyPaths: ['bad'] }), /unknown key/);
    await v.simpleSigning(sig2, { keyPaths: ['k'] });
    await v.sigstore({ payload, annotations: {} }, { keyPath: 'cosign.pub' });
    await v.sigstore({ payload, annotations: {} }, { keyPath: 'cosign.pub' });
    assert.deepEqual(calls, [
      'gpg one {"keyPaths":["k"]}',
      'gpg one {"keyPaths":["bad"]}',
      'gpg two {"keyPaths":["k"]}',
      'sigstore p {"keyPath":"cosign.pub"}',
    ]);
  });
});
