/**
 * The trust policy at a `dir:` source (issue 17): containers/image's signed `dir:` fixtures are judged
 * by their `signature-N` files, GPG and sigstore, under the path scope.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { digestOf } from '../../oci/digest.js';
import { fixture } from '../../testing/fixtures.js';
import { pathAdmission, sourceAdmission } from './admission.js';

const FIXTURES = ['containers-image', 'signature', 'fixtures'];
const dirImage = (name: string) => {
  const path = fixture(...FIXTURES, name);
  return { path, digest: digestOf(readFileSync(join(path, 'manifest.json'))) };
};

describe('admission of a dir: image by its signature files', { timeout: 30_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-admission-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  /** A policy file whose dir: transport's default scope has `requirement`, everything else rejected. */
  const policy = (name: string, requirement: Record<string, unknown>): string => {
    const p = join(tmp, name);
    writeFileSync(p, JSON.stringify({ default: [{ type: 'reject' }], transports: { dir: { '': [requirement] } } }));
    return p;
  };
  const gpgPolicy = policy('gpg.json', {
    type: 'signedBy',
    keyType: 'GPGKeys',
    keyPath: fixture(...FIXTURES, 'public-key.gpg'),
    // A dir: image has no name of its own: the signature's claimed identity is checked against a fixed one.
    signedIdentity: { type: 'exactReference', dockerReference: 'testing/manifest:latest' },
  });

  it('accepts dir-img-valid under signedBy: its signature-1 is read, not an empty list', async () => {
    const img = dirImage('dir-img-valid');
    const admit = pathAdmission('dir', img.path, { signaturePolicy: gpgPolicy });
    assert.ok(admit);
    await admit({ digest: img.digest });
    // The same gate as copy reaches it from a dir: source.
    await sourceAdmission({ transport: 'dir', path: img.path }, { signaturePolicy: gpgPolicy }, async () => [])!({ digest: img.digest });
    // Two good signatures, and a mix of a good one with one by an unknown key, are accepted too.
    for (const name of ['dir-img-valid-2', 'dir-img-mixed']) {
      const other = dirImage(name);
      await pathAdmission('dir', other.path, { signaturePolicy: gpgPolicy })!({ digest: other.digest });
    }
  });

  it('refuses an unsigned dir: image, a modified manifest and another identity, each with its reason', async () => {
    const unsigned = dirImage('dir-img-unsigned');
    await assert.rejects(pathAdmission('dir', unsigned.path, { signaturePolicy: gpgPolicy })!({ digest: unsigned.digest }), {
      code: 'POLICY_DENIED',
      message: /^Source image rejected: .*no signature/i,
    });
    const modified = dirImage('dir-img-modified-manifest');
    await assert.rejects(pathAdmission('dir', modified.path, { signaturePolicy: gpgPolicy })!({ digest: modified.digest }), { code: 'POLICY_DENIED' });
    const elsewhere = policy('other-identity.json', {
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyPath: fixture(...FIXTURES, 'public-key.gpg'),
      signedIdentity: { type: 'exactReference', dockerReference: 'testing/other:latest' },
    });
    const valid = dirImage('dir-img-valid');
    await assert.rejects(pathAdmission('dir', valid.path, { signaturePolicy: elsewhere })!({ digest: valid.digest }), {
      code: 'POLICY_DENIED',
      message: /testing\/manifest/,
    });
  });

  it("reads a dir: image's sigstore-json signature files under sigstoreSigned", async () => {
    const cosign = policy('cosign.json', {
      type: 'sigstoreSigned',
      keyPath: fixture(...FIXTURES, 'cosign.pub'),
      signedIdentity: { type: 'exactRepository', dockerRepository: '192.168.64.2:5000/cosign-signed-single-sample' },
    });
    const valid = dirImage('dir-img-cosign-valid');
    await pathAdmission('dir', valid.path, { signaturePolicy: cosign })!({ digest: valid.digest });
    const unsigned = dirImage('dir-img-unsigned');
    await assert.rejects(pathAdmission('dir', unsigned.path, { signaturePolicy: cosign })!({ digest: unsigned.digest }), { code: 'POLICY_DENIED' });
  });
});
