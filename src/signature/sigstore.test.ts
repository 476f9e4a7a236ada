import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { digestOf } from '../oci/digest.js';
import { fixture } from '../testing/fixtures.js';
import {
  createSigstoreSignature,
  makeSigstorePayload,
  parseSigstorePayload,
  SIGSTORE_SIGNATURE_ANNOTATION,
  signSigstorePayload,
  verifySigstoreSignature,
} from './sigstore.js';
import { addSignatureToAttachment, parseAttachmentManifest, sigstoreAttachmentTag, signatureLayers } from './sigstore-attachments.js';
import { parseSigstoreSignatureBlob, sigstoreSignatureBlob } from './sigstore-blob.js';

const fixtures = () => fixture('containers-image', 'signature', 'fixtures');
const COSIGN_PUB = () => ({ keyPath: join(fixtures(), 'cosign.pub') });
const COSIGN2_PUB = () => ({ keyPath: join(fixtures(), 'cosign2.pub') });

/** containers/image's `dir:` fixture: its manifest's digest and its signature files parsed. */
function dirImage(name: string) {
  const dir = join(fixtures(), name);
  const files = readdirSync(dir)
    .filter((f) => f.startsWith('signature-'))
    .sort();
  let manifestDigest: string | undefined;
  try {
    manifestDigest = digestOf(readFileSync(join(dir, 'manifest.json')));
  } catch {}
  return { manifestDigest, signatures: files.map((f) => parseSigstoreSignatureBlob(readFileSync(join(dir, f)), f)!) };
}

/**
 * A golden vector written by hand from cosign's documented format (specs/SIGNATURE_SPEC.md): the
 * payload's bytes typed out, signed with `openssl dgst -sha256 -sign` by a P-256 key made by
 * `openssl genpkey`, the DER signature base64'd into the annotation, and the attachment manifest as
 * cosign lays it out (an OCI manifest, the payload as a simplesigning layer with the annotation).
 */
const GOLDEN = {
  publicKey: `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZE4shjyQOOqLpDaIQ2tZd4Fv12O3
2u736SWzekUTMWulUYK52IYCaxT8lGL2agyKI7YMJdiyNACtrwndrvnXhw==
-----END PUBLIC KEY-----
`,
  payload:
    '{"critical":{"identity":{"docker-reference":"registry.example/golden/app:1.0"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":null}',
  payloadDigest: 'sha256:5bbb913bb4e6ea8764628b9c32d8f9a6c60dc9ce5db4db74ad1abd9625c73dd7',
  signature: 'MEYCIQCW+RZYoHXBE2DTEv8lSk2XMhjs9Sp319TEv8IjaOZIRwIhAM2laFDY/RUFaFETa1fT3oY5vrzbqXMUaMRGxu7q7XeG',
  manifest: `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 233, "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000"},
  "layers": [
    {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": 247, "digest": "sha256:5bbb913bb4e6ea8764628b9c32d8f9a6c60dc9ce5db4db74ad1abd9625c73dd7",
     "annotations": {"dev.cosignproject.cosign/signature": "MEYCIQCW+RZYoHXBE2DTEv8lSk2XMhjs9Sp319TEv8IjaOZIRwIhAM2laFDY/RUFaFETa1fT3oY5vrzbqXMUaMRGxu7q7XeG"}}
  ]
}`,
};

const CLAIM = { dockerReference: '127.0.0.1:5000/app:1', manifestDigest: `sha256:${'ab'.repeat(32)}` };
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => Buffer.from(k.export({ format: 'pem', type: 'spki' }));
/** A payload of any bytes, signed properly: what the strict parser sees only after the signature verified. */
const signed = (privateKey: KeyObject, payload: string) => signSigstorePayload(privateKey, Buffer.from(payload));

describe('sigstore signatures', { timeout: 30_000 }, () => {
  it("verifies cosign's own signatures (containers/image's fixtures) with cosign.pub, and only with it", async () => {
    const valid = dirImage('dir-img-cosign-valid');
    const claim = await verifySigstoreSignature(valid.signatures[0]!, COSIGN_PUB());
    assert.deepEqual(claim, { dockerReference: '192.168.64.2:5000/cosign-signed-single-sample', manifestDigest: valid.manifestDigest });
    await assert.rejects(verifySigstoreSignature(valid.signatures[0]!, COSIGN2_PUB()), {
      code: 'SIGNATURE_INVALID',
      message: /cryptographic signature verification failed/,
    });
    // Two signatures by the same key, both good.
    for (const s of dirImage('dir-img-cosign-valid-2').signatures)
      assert.equal((await verifySigstoreSignature(s, COSIGN_PUB())).manifestDigest, valid.manifestDigest);
    // One signature by an unknown key, one by cosign.pub's.
    const [unknown, good] = dirImage('dir-img-cosign-mixed').signatures;
    await assert.rejects(verifySigstoreSignature(unknown!, COSIGN_PUB()), /cryptographic signature verification failed/);
    await assert.rejects(verifySigstoreSignature(unknown!, COSIGN2_PUB()), /cryptographic signature verification failed/);
    assert.equal((await verifySigstoreSignature(good!, COSIGN_PUB())).manifestDigest, valid.manifestDigest);
    // Written by skopeo, with containers/image's optional fields.
    const tagged = dirImage('dir-img-cosign-valid-with-tag').signatures[0]!;
    assert.equal((await verifySigstoreSignature(tagged, COSIGN_PUB())).dockerReference, '192.168.64.2:5000/skopeo-signed:tag');
    assert.deepEqual(parseSigstorePayload(tagged.payload), {
      dockerReference: '192.168.64.2:5000/skopeo-signed:tag',
      manifestDigest: valid.manifestDigest,
      creator: 'containers/image 5.21.2-dev',
      timestamp: 1657296609,
    });
  });

  it('returns a good signature of another manifest as it is: the claimed digest is what the policy compares', async () => {
    for (const name of ['dir-img-cosign-modified-manifest', 'dir-img-cosign-manifest-digest-error']) {
      const img = dirImage(name);
      const claim = await verifySigstoreSignature(img.signatures[0]!, COSIGN_PUB());
      assert.notEqual(claim.manifestDigest, img.manifestDigest, name);
      assert.equal(claim.manifestDigest, 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00');
    }
  });

  it('tells another attachment from a signature by its media type, and does not verify it whatever its annotation says', async () => {
    const other = dirImage('dir-img-cosign-other-attachment').signatures[0]! as ReturnType<typeof parseSigstoreSignatureBlob> & object;
    assert.equal(other.mimeType, 'text/plain');
    assert.ok(other.annotations[SIGSTORE_SIGNATURE_ANNOTATION]);
    await assert.rejects(verifySigstoreSignature(other, COSIGN_PUB()), /cryptographic signature verification failed/);
  });

  it('verifies the hand-written golden vector, its attachment manifest included', async () => {
    const manifest = parseAttachmentManifest(Buffer.from(GOLDEN.manifest), 'golden');
    const [layer] = signatureLayers(manifest);
    assert.equal(layer!.digest, digestOf(GOLDEN.payload));
    assert.equal(layer!.size, Buffer.byteLength(GOLDEN.payload));
    assert.equal(GOLDEN.payloadDigest, layer!.digest);
    const claim = await verifySigstoreSignature(
      { payload: Buffer.from(GOLDEN.payload), annotations: layer!.annotations! },
      { keyData: Buffer.from(GOLDEN.publicKey) },
    );
    assert.deepEqual(claim, {
      dockerReference: 'registry.example/golden/app:1.0',
      manifestDigest: 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00',
    });
    // berth writes those same bytes for that claim.
    assert.equal(Buffer.from(makeSigstorePayload(claim)).toString(), GOLDEN.payload);
    const changed = GOLDEN.payload.replace('app:1.0', 'app:1.1');
    await assert.rejects(
      verifySigstoreSignature({ payload: Buffer.from(changed), annotations: layer!.annotations! }, { keyData: Buffer.from(GOLDEN.publicKey) }),
      /verification failed/,
    );
  });

  it('signs so that the claim verifies with the public key, and rejects every tampering', async () => {
    const { privateKey, publicKey } = p256();
    const sig = createSigstoreSignature(privateKey, CLAIM, { creator: 'berth test', timestamp: 1700000000 });
    const key = { keyData: pem(publicKey) };
    assert.deepEqual(await verifySigstoreSignature(sig, key), CLAIM);
    assert.deepEqual(JSON.parse(Buffer.from(sig.payload).toString()).optional, { creator: 'berth test', timestamp: 1700000000 });
    const payload = Buffer.from(sig.payload);
    payload[payload.indexOf('ab')] = 'c'.charCodeAt(0);
    await assert.rejects(verifySigstoreSignature({ ...sig, payload }, key), { code: 'SIGNATURE_INVALID' });
    const raw = Buffer.from(sig.annotations[SIGSTORE_SIGNATURE_ANNOTATION]!, 'base64');
    raw[raw.length - 1]! ^= 1;
    await assert.rejects(
      verifySigstoreSignature({ ...sig, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: raw.toString('base64') } }, key),
      /verification failed/,
    );
    await assert.rejects(verifySigstoreSignature({ ...sig, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: 'not base64!' } }, key), /not base64/);
    await assert.rejects(verifySigstoreSignature({ ...sig, annotations: {} }, key), /missing dev\.cosignproject\.cosign\/signature annotation/);
    await assert.rejects(verifySigstoreSignature(sig, { keyData: pem(p256().publicKey) }), /verification failed/);
    await assert.rejects(verifySigstoreSignature(sig, {}), /exactly one of keyPath and keyData/);
    await assert.rejects(verifySigstoreSignature(sig, { keyPath: '/nonexistent/key.pub' }), /no such file/);
  });

  it('parses the payload strictly, after the signature verified', async () => {
    const { privateKey, publicKey } = p256();
    const key = { keyData: pem(publicKey) };
    const crit = (c: string, optional = 'null') => `{"critical":${c},"optional":${optional}}`;
    const good = `{"identity":{"docker-reference":"r/a"},"image":{"docker-manifest-digest":"${CLAIM.manifestDigest}"},"type":"cosign container image signature"}`;
    assert.equal((await verifySigstoreSignature(signed(privateKey, crit(good, '{"creator":"x","other":[1]}')), key)).dockerReference, 'r/a');
    const bad: [string, RegExp][] = [
      [crit(good.replace('"type":"cosign container image signature"', '"type":"atomic container signature"')), /unrecognized signature type/],
      [crit(good.replace('}', ',"extra":1}')), /unexpected field "extra"/],
      [crit(good.replace('{"identity"', '{"identity":{"docker-reference":"x"},"identity"')), /duplicate key "identity"/],
      [crit(good.replace('"type":"cosign', '"type":"x","type":"cosign')), /duplicate key "type"/],
      [crit(good.replace(CLAIM.manifestDigest, 'sha256:xyz')), /invalid docker-manifest-digest/],
      [crit(good.replace('"docker-reference":"r/a"', '"docker-reference":7')), /docker-reference is not a string/],
      [crit(good, '{"timestamp":1.5}'), /timestamp is not an integer/],
      [crit(good, '{"creator":1}'), /creator is not a string/],
      [crit(good, '[]'), /optional is not an object/],
      [`{"critical":${good}}`, /missing field "optional"/],
      [`{"critical":${good},"optional":null,"more":1}`, /unexpected field "more"/],
      ['[1]', /not a JSON object/],
      ['{', /not valid JSON/],
    ];
    for (const [payload, why] of bad) await assert.rejects(verifySigstoreSignature(signed(privateKey, payload), key), why, payload);
  });

  it("keeps containers/image's signature file format round trip", () => {
    const { privateKey } = p256();
    const sig = createSigstoreSignature(privateKey, CLAIM);
    const blob = sigstoreSignatureBlob(sig);
    assert.equal(blob.subarray(0, 15).toString(), '\0sigstore-json\n');
    const back = parseSigstoreSignatureBlob(blob)!;
    assert.equal(back.mimeType, 'application/vnd.dev.cosign.simplesigning.v1+json');
    assert.deepEqual(Buffer.from(back.payload), Buffer.from(sig.payload));
    assert.deepEqual(back.annotations, sig.annotations);
    assert.equal(parseSigstoreSignatureBlob(readFileSync(join(fixtures(), 'image.signature'))), undefined);
  });

  it('names the attachment tag after the digest and appends signatures to the attachment, once each', () => {
    assert.equal(sigstoreAttachmentTag(CLAIM.manifestDigest), `sha256-${'ab'.repeat(32)}.sig`);
    assert.throws(() => sigstoreAttachmentTag('sha256:short'), /invalid digest/);
    const { privateKey } = p256();
    const first = createSigstoreSignature(privateKey, CLAIM);
    const made = addSignatureToAttachment(undefined, first)!;
    const m1 = parseAttachmentManifest(made.manifest.bytes, 'first');
    assert.equal(made.manifest.digest, digestOf(made.manifest.bytes));
    assert.deepEqual(JSON.parse(made.manifest.bytes.toString()).mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(m1.config, { mediaType: 'application/vnd.oci.image.config.v1+json', digest: made.config.digest, size: made.config.bytes.length });
    assert.deepEqual(m1.layers, [
      {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        digest: digestOf(first.payload),
        size: first.payload.length,
        annotations: first.annotations,
      },
    ]);
    assert.deepEqual(JSON.parse(made.config.bytes.toString()).rootfs, { type: 'layers', diff_ids: [digestOf(first.payload)] });
    assert.equal(addSignatureToAttachment({ manifest: m1, config: made.config.bytes }, first), undefined);
    const second = createSigstoreSignature(privateKey, { ...CLAIM, dockerReference: '127.0.0.1:5000/app:2' });
    const grown = addSignatureToAttachment({ manifest: m1, config: made.config.bytes }, second)!;
    const m2 = parseAttachmentManifest(grown.manifest.bytes, 'second');
    assert.deepEqual(
      m2.layers.map((l) => l.digest),
      [digestOf(first.payload), digestOf(second.payload)],
    );
    assert.deepEqual(JSON.parse(grown.config.bytes.toString()).rootfs.diff_ids, [digestOf(first.payload), digestOf(second.payload)]);
    assert.throws(
      () => parseAttachmentManifest(Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'), 'x'),
      /not an OCI image manifest/,
    );
  });

  /**
   * An independent check with @sigstore/verify (offline: no TUF, no Rekor, no Fulcio; the public key
   * handed over as trust material). What it proves: sigstore-js's own verifier accepts berth's
   * annotation as an ECDSA-SHA256 signature over exactly the payload bytes by that key, taken as a
   * sigstore "message signature" bundle, and refuses it for other bytes or another key. What it does
   * not prove: anything about the payload's meaning (@sigstore/verify has no notion of cosign's
   * simple-signing JSON, the critical identity or digest), the attachment's layout or tag, that cosign
   * itself would accept it (no transparency log entry or certificate is involved), nor a second
   * implementation of ECDSA (both end in node:crypto).
   */
  it('is accepted by @sigstore/verify as a message signature with the public key', () => {
    const { privateKey, publicKey } = p256();
    const sig = createSigstoreSignature(privateKey, CLAIM);
    const bundle = (payload: Uint8Array) => ({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        content: { $case: 'publicKey' as const, publicKey: { hint: 'berth' } },
        tlogEntries: [],
        timestampVerificationData: { rfc3161Timestamps: [] },
      },
      content: {
        $case: 'messageSignature' as const,
        messageSignature: {
          messageDigest: { algorithm: 1 /* SHA2_256 */, digest: Buffer.from(digestOf(payload).slice(7), 'hex') },
          signature: Buffer.from(sig.annotations[SIGSTORE_SIGNATURE_ANNOTATION]!, 'base64'),
        },
      },
    });
    const trust = (key: KeyObject) =>
      toTrustMaterial({ mediaType: '', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }, () => ({
        publicKey: key,
        validFor: () => true,
      }));
    const offline = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };
    // The bundle's type is protobuf-specs' (not a dependency of berth): the literal above has its shape.
    const entity = (payload: Uint8Array) => toSignedEntity(bundle(payload) as unknown as Parameters<typeof toSignedEntity>[0], Buffer.from(payload));
    const signer = new Verifier(trust(publicKey), offline).verify(entity(sig.payload));
    assert.equal(pem(signer.key).toString(), pem(publicKey).toString());
    const other = Buffer.from(Buffer.from(sig.payload).toString().replace('app:1', 'app:2'));
    assert.throws(() => new Verifier(trust(publicKey), offline).verify(entity(other)), /signature verification failed/);
    assert.throws(() => new Verifier(trust(createPublicKey(p256().privateKey)), offline).verify(entity(sig.payload)), /signature verification failed/);
    // A key-checked signature is all it checks: berth's own parse is what reads the claim.
    assert.deepEqual(parseSigstorePayload(sig.payload), CLAIM);
  });
});
