import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { BerthError } from '../util/errors.js';
import { parsePolicy } from './policy.js';
import { evaluate, rejectedOutright } from './policy-eval.js';
import type { GpgKeys, ImageUnderPolicy, SignedClaim, SigstoreKey, UnverifiedSignature, Verifiers } from './types.js';

const DIGEST = `sha256:${'1'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'2'.repeat(64)}`;
const image: ImageUnderPolicy = {
  transport: 'docker',
  scope: 'registry.example/team/app:1',
  dockerReference: 'registry.example/team/app:1',
  manifestDigest: DIGEST,
};

/**
 * A test double for the GPG and sigstore verifiers: a "signature" is the JSON of who signed it and
 * what it claims; it verifies when its signer is among the requirement's keys.
 */
interface FakeSignature {
  signer: string;
  claim: SignedClaim;
}
const encode = (s: FakeSignature) => new TextEncoder().encode(JSON.stringify(s));
const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as FakeSignature;
const gpg = (signer: string, dockerReference = image.dockerReference!, manifestDigest = DIGEST): UnverifiedSignature => ({
  kind: 'simple-signing',
  bytes: encode({ signer, claim: { dockerReference, manifestDigest } }),
});
const cosign = (signer: string): UnverifiedSignature => ({
  kind: 'sigstore',
  payload: encode({ signer, claim: { dockerReference: image.dockerReference!, manifestDigest: DIGEST } }),
  annotations: {},
});

class FakeVerifiers implements Verifiers {
  readonly calls: string[] = [];
  async simpleSigning(signature: Uint8Array, keys: GpgKeys): Promise<SignedClaim> {
    const s = decode(signature);
    this.calls.push(`gpg ${s.signer} with ${keys.keyPaths?.join(',') ?? 'keyData'}`);
    if (!(keys.keyPaths ?? []).includes(s.signer)) throw new BerthError('USAGE', `signed by an unknown key (${s.signer})`);
    return s.claim;
  }
  async sigstore(signature: { payload: Uint8Array }, key: SigstoreKey): Promise<SignedClaim> {
    const s = decode(signature.payload);
    this.calls.push(`sigstore ${s.signer} with ${key.keyPath ?? 'keyData'}`);
    if (key.keyPath !== s.signer) throw new BerthError('USAGE', `invalid signature: not made by ${key.keyPath}`);
    return s.claim;
  }
}

const policyWith = (reqs: unknown[], defaults: unknown[] = [{ type: 'reject' }]) =>
  parsePolicy(JSON.stringify({ default: defaults, transports: { docker: { 'registry.example/team': reqs } } }), '/etc/containers/policy.json');
const signedBy = (key: string, signedIdentity?: unknown) => ({
  type: 'signedBy',
  keyType: 'GPGKeys',
  keyPath: key,
  ...(signedIdentity ? { signedIdentity } : {}),
});
const WHERE = 'transports.docker["registry.example/team"] in /etc/containers/policy.json';

async function decide(reqs: unknown[], sigs: UnverifiedSignature[], img = image) {
  const verifiers = new FakeVerifiers();
  let fetches = 0;
  const decision = await evaluate(
    policyWith(reqs),
    img,
    async () => {
      fetches++;
      return sigs;
    },
    verifiers,
  );
  return { decision, fetches, calls: verifiers.calls };
}

describe('evaluate()', { timeout: 30_000 }, () => {
  it('insecureAcceptAnything accepts without reading any signature', async () => {
    const r = await decide([{ type: 'insecureAcceptAnything' }], [gpg('evil')]);
    assert.deepEqual(r.decision, { accepted: true });
    assert.equal(r.fetches, 0);
  });

  it('reject refuses, naming the image and the rule, without reading signatures', async () => {
    const r = await decide([{ type: 'reject' }], [gpg('/keys/good')]);
    assert.deepEqual(r.decision, { accepted: false, reason: `docker://registry.example/team/app:1: rejected by the policy (reject for ${WHERE})` });
    assert.equal(r.fetches, 0);
  });

  it('rejectedOutright: a reject in the section refuses before the manifest is known', () => {
    const { manifestDigest: _, ...named } = image;
    assert.deepEqual(rejectedOutright(policyWith([signedBy('/keys/a'), { type: 'reject' }]), named), {
      accepted: false,
      reason: `docker://registry.example/team/app:1: rejected by the policy (reject for ${WHERE})`,
    });
    assert.equal(rejectedOutright(policyWith([signedBy('/keys/a')]), named), undefined);
    assert.equal(
      rejectedOutright(policyWith([{ type: 'insecureAcceptAnything' }]), { ...named, scope: 'quay.io/x:1' })?.accepted,
      false,
      'the default rejects',
    );
  });

  it('the default section applies outside every scope', async () => {
    const verifiers = new FakeVerifiers();
    const d = await evaluate(
      policyWith([{ type: 'insecureAcceptAnything' }]),
      { ...image, scope: 'quay.io/x:1', dockerReference: 'quay.io/x:1' },
      async () => [],
      verifiers,
    );
    assert.deepEqual(d, { accepted: false, reason: 'docker://quay.io/x:1: rejected by the policy (reject for default in /etc/containers/policy.json)' });
  });

  it('signedBy accepts a valid signature by its key for the image and its manifest', async () => {
    const r = await decide([signedBy('/keys/good')], [gpg('/keys/good')]);
    assert.deepEqual(r.decision, { accepted: true });
    assert.deepEqual(r.calls, ['gpg /keys/good with /keys/good']);
  });

  it('signedBy: no signature', async () => {
    const r = await decide([signedBy('/keys/good')], []);
    assert.deepEqual(r.decision, { accepted: false, reason: `docker://registry.example/team/app:1: no signature (signedBy for ${WHERE})` });
  });

  it('signedBy: sigstore signatures do not count for it', async () => {
    const r = await decide([signedBy('/keys/good')], [cosign('/keys/good')]);
    assert.equal(r.decision.accepted, false);
    assert.match((r.decision as { reason: string }).reason, /: no simple-signing signature \(1 of another kind\) \(signedBy for/);
  });

  it("signedBy: an unknown key, with the verifier's own words", async () => {
    const r = await decide([signedBy('/keys/good')], [gpg('/keys/other')]);
    assert.deepEqual(r.decision, {
      accepted: false,
      reason: `docker://registry.example/team/app:1: signed by an unknown key (/keys/other) (signedBy for ${WHERE})`,
    });
  });

  it('signedBy: a signature for another identity', async () => {
    const r = await decide([signedBy('/keys/good')], [gpg('/keys/good', 'registry.example/team/other:1')]);
    assert.deepEqual(r.decision, {
      accepted: false,
      reason: `docker://registry.example/team/app:1: signature for identity registry.example/team/other:1 is not accepted for registry.example/team/app:1 (signedIdentity matchRepoDigestOrExact) (signedBy for ${WHERE})`,
    });
  });

  it('signedBy: the signedIdentity rule decides which identities pass', async () => {
    const otherTag = [gpg('/keys/good', 'registry.example/team/app:2')];
    assert.equal((await decide([signedBy('/keys/good')], otherTag)).decision.accepted, false);
    assert.equal((await decide([signedBy('/keys/good', { type: 'matchRepository' })], otherTag)).decision.accepted, true);
    const mirrored = { ...image, scope: 'registry.example/team/app:1' };
    const vendorSig = [gpg('/keys/good', 'vendor.example/app:1')];
    const remap = { type: 'remapIdentity', prefix: 'registry.example/team', signedPrefix: 'vendor.example' };
    assert.equal((await decide([signedBy('/keys/good', remap)], vendorSig, mirrored)).decision.accepted, true);
  });

  it('signedBy: a signature for another manifest', async () => {
    const r = await decide([signedBy('/keys/good')], [gpg('/keys/good', image.dockerReference, OTHER_DIGEST)]);
    assert.deepEqual(r.decision, {
      accepted: false,
      reason: `docker://registry.example/team/app:1: the signature is for another manifest (${OTHER_DIGEST}, not ${DIGEST}) (signedBy for ${WHERE})`,
    });
  });

  it('signedBy: one good signature among bad ones is enough; all bad lists every reason', async () => {
    assert.deepEqual((await decide([signedBy('/keys/good')], [gpg('/keys/other'), gpg('/keys/good')])).decision, { accepted: true });
    const r = await decide([signedBy('/keys/good')], [gpg('/keys/other'), gpg('/keys/good', image.dockerReference, OTHER_DIGEST)]);
    assert.match(
      (r.decision as { reason: string }).reason,
      /: none of the 2 signatures is accepted: signed by an unknown key \(\/keys\/other\); the signature is for another manifest/,
    );
  });

  it('two requirements: both must accept, and signatures are fetched once', async () => {
    const both = [signedBy('/keys/a'), signedBy('/keys/b')];
    const r1 = await decide(both, [gpg('/keys/a'), gpg('/keys/b')]);
    assert.deepEqual(r1.decision, { accepted: true });
    assert.equal(r1.fetches, 1);
    const r2 = await decide(both, [gpg('/keys/a')]);
    assert.deepEqual(r2.decision, {
      accepted: false,
      reason: `docker://registry.example/team/app:1: signed by an unknown key (/keys/a) (signedBy for ${WHERE})`,
    });
    const r3 = await decide([{ type: 'insecureAcceptAnything' }, { type: 'reject' }], []);
    assert.equal(r3.decision.accepted, false);
  });

  it('sigstoreSigned tries each key and accepts a signature any of them made', async () => {
    const req = { type: 'sigstoreSigned', keyPaths: ['/keys/one', '/keys/two'] };
    const r = await decide([req], [cosign('/keys/two')]);
    assert.deepEqual(r.decision, { accepted: true });
    assert.deepEqual(r.calls, ['sigstore /keys/two with /keys/one', 'sigstore /keys/two with /keys/two']);
    const bad = await decide([req], [cosign('/keys/three')]);
    assert.match((bad.decision as { reason: string }).reason, /: invalid signature: not made by \/keys\/one \(sigstoreSigned for/);
  });

  it('sigstoreSigned with fulcio, rekor or pki is refused with a clear line: berth has no Fulcio or Rekor', async () => {
    const fulcio = { type: 'sigstoreSigned', fulcio: { caPath: '/ca', oidcIssuer: 'https://i', subjectEmail: 'a@b' }, rekorPublicKeyPath: '/rekor.pub' };
    const r = await decide([fulcio], [cosign('/keys/one')]);
    assert.match((r.decision as { reason: string }).reason, /sigstoreSigned with fulcio needs .* berth has no Fulcio or Rekor support/);
    const rekor = await decide([{ type: 'sigstoreSigned', keyPath: '/keys/one', rekorPublicKeyPath: '/rekor.pub' }], [cosign('/keys/one')]);
    assert.match((rekor.decision as { reason: string }).reason, /berth has no Rekor support/);
    assert.deepEqual(rekor.calls, [], 'nothing verified when the requirement cannot be checked');
  });

  it('keyTypes other than GPGKeys and signedBaseLayer are refused, never skipped', async () => {
    const r = await decide([{ type: 'signedBy', keyType: 'signedByGPGKeys', keyPath: '/keys/good' }], [gpg('/keys/good')]);
    assert.match((r.decision as { reason: string }).reason, /keyType signedByGPGKeys is not implemented/);
    const base = await decide([{ type: 'signedBaseLayer', baseLayerIdentity: { type: 'matchRepository' } }], []);
    assert.match((base.decision as { reason: string }).reason, /signedBaseLayer is not implemented/);
  });

  it("the containers/image fixture policy.json: each image meets its section's rule", async () => {
    const path = fixture('containers-image', 'signature', 'fixtures', 'policy.json');
    const policy = parsePolicy(readFileSync(path, 'utf8'), path);
    const verifiers = new FakeVerifiers();
    const at = (ref: string, transport = 'docker') =>
      evaluate(policy, { transport, scope: ref, dockerReference: ref, manifestDigest: DIGEST }, async () => [], verifiers);
    assert.deepEqual(await at('example.com/playground/app:1'), { accepted: true });
    assert.deepEqual(await at('/any/dir', 'dir'), { accepted: true });
    // quay.io matches no scope of the docker section (which has no "" scope either): the default rejects.
    assert.match(((await at('quay.io/x:1')) as { reason: string }).reason, /^docker:\/\/quay\.io\/x:1: rejected by the policy \(reject for default in /);
    assert.match(
      ((await at('example.com/production/app:1')) as { reason: string }).reason,
      /: no signature \(signedBy for transports\.docker\["example\.com\/production"\]/,
    );
    assert.match(((await at('registry.access.redhat.com/rhel7:1')) as { reason: string }).reason, /keyType signedByGPGKeys is not implemented/);
    assert.match(((await at('docker.io/library/busybox:1')) as { reason: string }).reason, /rejected by the policy \(reject for default in /);
  });

  it('an image with no docker reference passes only identity rules that do not need one', async () => {
    const dirImage: ImageUnderPolicy = { transport: 'dir', scope: '/srv/img', manifestDigest: DIGEST };
    const verifiers = new FakeVerifiers();
    const policy = parsePolicy(
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          dir: {
            '/srv': [signedBy('/keys/good')],
            '/srv/img': [signedBy('/keys/good', { type: 'exactReference', dockerReference: 'registry.example/team/app:1' })],
          },
        },
      }),
      'p.json',
    );
    assert.deepEqual(await evaluate(policy, dirImage, async () => [gpg('/keys/good')], verifiers), { accepted: true });
    const d = await evaluate(policy, { ...dirImage, scope: '/srv/other' }, async () => [gpg('/keys/good')], verifiers);
    assert.match(
      (d as { reason: string }).reason,
      /^dir:\/srv\/other: signature for identity registry\.example\/team\/app:1 is not accepted for an image with no docker reference/,
    );
  });
});
