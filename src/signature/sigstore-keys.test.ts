import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { decryptSigstorePrivateKey, encryptSigstorePrivateKey, generateSigstoreKeyPair, pemDecode, readSigstorePublicKey } from './sigstore-keys.js';

/**
 * A key file made outside berth: a P-256 key from `openssl genpkey` (then `openssl pkcs8 -topk8`),
 * encrypted by a Python script using hashlib's scrypt and an XSalsa20-Poly1305 written from the NaCl
 * papers, with the passphrase "hand made"; its public half from `openssl pkey -pubout`.
 */
const HAND_MADE_PRIVATE = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiJzek9UdHVzYWVydU84MW82djZxL1pOUEtCNFBKZ0xL
T3Fhb1lqRzNtMXo0PSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiIxYWNmR291OUtueFNXSENPRVVFcTZMRmtFRnY4WWRFSiJ9LCJj
aXBoZXJ0ZXh0IjoiWFhTNGpPYlhKZDF2cGx4TlhEazhSL29wOVVram9HY0JKa1dZ
ZStZWXJwei9jLzVSMGU1NFhEdXZmaGVZelprTXF6TGhCdllZWGc3S0dzMzVlK29F
LzloQ3A3K2tpYWdOU3RHSDFDSnZJQk4vdTRZaTMrYW5UZkcrMDBuYkJQclYrdHRG
N2tuZjdLV0JySEVjZ1BiVm5YSFd6bkVhYWUyc1VmMGdBeXdUb2lIV3V0bS9qN2l1
N2dvVGF1dUFQcDZtbUY0OGFoVlRwR096N0E9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----
`;
/** The same key, encrypted the same way with the empty passphrase (cosign allows one). */
const HAND_MADE_EMPTY_PASSPHRASE = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiJKTWVHVENLM0lVVURZNE9uVk00a2orcEVWZWlXU0kr
a1daYmxmUFNDM0w4PSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJmOGF1MjNTQ0Z0SllIeC9qN2dXOHhQaERYRTRjWWdkSCJ9LCJj
aXBoZXJ0ZXh0IjoiSW40QkpER2puSUptcUtqSHJRRkRLUDBud1RaNW8vODN3Q2N6
TkxvYVNsTnRPVW5UaFdrSXpVNGV5TDBZL0JPbkk1d25HMnlvY2M4Yk04SDhCQzda
cUtHSDZ5alJvMVkyL3ZraEdLUmZTWG9vUVNWTk1rdnJYL0NPbjkvbmtTeXZyL2xE
ek1KVk5YVjVoRlNwdzZGb3BFVnc3Smw4ZHRJNzZ6OW0yQmt2YTZKc0tLMFFtWnZB
THZQNnl2VzB4WThuaEhvZkpwUFBGRjF2K1E9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----
`;
const HAND_MADE_PUBLIC = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZE4shjyQOOqLpDaIQ2tZd4Fv12O3
2u736SWzekUTMWulUYK52IYCaxT8lGL2agyKI7YMJdiyNACtrwndrvnXhw==
-----END PUBLIC KEY-----
`;

const pass = (s: string) => Buffer.from(s);
const spki = (k: KeyObject) => (k.type === 'public' ? k : createPublicKey(k)).export({ format: 'pem', type: 'spki' }).toString();

describe('sigstore key files', { timeout: 60_000 }, () => {
  it('generates a pair whose private half decrypts, with the passphrase only, to the public half', async () => {
    const pair = await generateSigstoreKeyPair(pass('s3cret'));
    assert.match(
      pair.privateKeyPem,
      /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n$/,
    );
    assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const doc = JSON.parse(pemDecode(pair.privateKeyPem)!.bytes.toString('utf8'));
    assert.deepEqual(Object.keys(doc), ['kdf', 'cipher', 'ciphertext']);
    assert.deepEqual(doc.kdf.params, { N: 32768, r: 8, p: 1 });
    assert.equal(doc.kdf.name, 'scrypt');
    assert.equal(Buffer.from(doc.kdf.salt, 'base64').length, 32);
    assert.equal(doc.cipher.name, 'nacl/secretbox');
    assert.equal(Buffer.from(doc.cipher.nonce, 'base64').length, 24);
    const key = await decryptSigstorePrivateKey(pair.privateKeyPem, pass('s3cret'));
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(spki(key), pair.publicKeyPem);
    await assert.rejects(decryptSigstorePrivateKey(pair.privateKeyPem, pass('s3cret ')), /decryption failed \(wrong passphrase\?\)/);
    await assert.rejects(decryptSigstorePrivateKey(pair.privateKeyPem, pass('')), /decryption failed/);
  });

  it('takes the empty passphrase, as cosign does', async () => {
    const pair = await generateSigstoreKeyPair(pass(''));
    assert.equal(spki(await decryptSigstorePrivateKey(pair.privateKeyPem, pass(''))), pair.publicKeyPem);
    assert.equal(spki(await decryptSigstorePrivateKey(HAND_MADE_EMPTY_PASSPHRASE, pass(''))), HAND_MADE_PUBLIC);
  });

  it('decrypts a key file made by another implementation of the format', async () => {
    const key = await decryptSigstorePrivateKey(HAND_MADE_PRIVATE, pass('hand made'));
    assert.equal(spki(key), HAND_MADE_PUBLIC);
    await assert.rejects(decryptSigstorePrivateKey(HAND_MADE_PRIVATE, pass('hand-made')), /decryption failed/);
  });

  it("reads cosign's older PEM type and securesystemslib's stronger scrypt strengths", async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const strong = await encryptSigstorePrivateKey(der, pass('x'), { N: 65536, r: 8, p: 1 });
    assert.equal(spki(await decryptSigstorePrivateKey(strong, pass('x'))), spki(publicKey));
    const older = strong.replaceAll('ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY');
    assert.equal(spki(await decryptSigstorePrivateKey(older, pass('x'))), spki(publicKey));
  });

  it('refuses a damaged file, odd parameters, another PEM type and another key type', async () => {
    const pair = await generateSigstoreKeyPair(pass('p'));
    const block = pemDecode(pair.privateKeyPem)!;
    const doc = JSON.parse(block.bytes.toString('utf8'));
    const rewrap = (d: unknown) =>
      `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(JSON.stringify(d)).toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    const ct = Buffer.from(doc.ciphertext, 'base64');
    ct[ct.length - 1]! ^= 1;
    await assert.rejects(decryptSigstorePrivateKey(rewrap({ ...doc, ciphertext: ct.toString('base64') }), pass('p')), /decryption failed/);
    await assert.rejects(
      decryptSigstorePrivateKey(rewrap({ ...doc, kdf: { ...doc.kdf, params: { N: 1024, r: 8, p: 1 } } }), pass('p')),
      /unsupported scrypt parameters/,
    );
    await assert.rejects(decryptSigstorePrivateKey(rewrap({ ...doc, cipher: { ...doc.cipher, name: 'aes' } }), pass('p')), /unknown cipher name "aes"/);
    await assert.rejects(decryptSigstorePrivateKey(rewrap({ ...doc, kdf: { ...doc.kdf, name: 'pbkdf2' } }), pass('p')), /unknown kdf name "pbkdf2"/);
    await assert.rejects(decryptSigstorePrivateKey(pair.publicKeyPem, pass('p')), /unsupported PEM type "PUBLIC KEY"/);
    await assert.rejects(decryptSigstorePrivateKey('not a key', pass('p')), /not a PEM file/);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
    await assert.rejects(decryptSigstorePrivateKey(await encryptSigstorePrivateKey(ed, pass('p')), pass('p')), /unsupported key type/);
  });

  it('reads a public key as PEM or DER and refuses anything else', () => {
    const k = readSigstorePublicKey(HAND_MADE_PUBLIC);
    assert.equal(k.asymmetricKeyType, 'ec');
    assert.equal(spki(readSigstorePublicKey(k.export({ format: 'der', type: 'spki' }))), HAND_MADE_PUBLIC);
    assert.throws(() => readSigstorePublicKey('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /not a public key/);
    assert.throws(() => readSigstorePublicKey(Buffer.from('garbage')), /not a public key/);
  });
});
