/** Where a copy may put the signatures it carries, decided before anything is copied. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { blobOfSignature, signatureFromBlob } from '../../signature/sigstore-blob.js';
import type { UnverifiedSignature } from '../../signature/types.js';
import { parseTransportRef } from '../../transports/copy/index.js';
import { checkSignaturesStorable, keepsSignatures, putSignatures, sourceSignatures } from './copy-signatures.js';

const gpg: UnverifiedSignature = { kind: 'simple-signing', bytes: new Uint8Array([0xa3, 1, 2, 3]) };
const sigstore: UnverifiedSignature = {
  kind: 'sigstore',
  payload: Buffer.from('{"critical":{}}'),
  annotations: { 'dev.cosignproject.cosign/signature': 'c2ln' },
};

describe('copied signatures', { timeout: 20_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-copy-sigs-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const regD = join(tmp, 'registries.d');
  mkdirSync(regD);
  writeFileSync(
    join(regD, 'a.yaml'),
    [
      'default-docker:',
      `  lookaside: file://${join(tmp, 'sigs')}`,
      'docker:',
      '  web.example/served:',
      '    lookaside: https://sigs.example/',
      '  attach.example:',
      '    use-sigstore-attachments: true',
      '',
    ].join('\n'),
  );
  const opts = { registriesDir: regD };

  it('refuses any signature for an OCI layout or an archive, naming --remove-signatures; none at all passes', async () => {
    for (const to of ['oci:/x/layout:1', 'oci-archive:/x/a.tar', 'docker-archive:/x/d.tar']) {
      await assert.rejects(checkSignaturesStorable(parseTransportRef(to), to, [gpg], opts), {
        code: 'USAGE',
        message: new RegExp(
          `^Can not copy signatures to ${to.replace(/[.]/g, '\\.')}: Pushing signatures to this destination is not supported .*--remove-signatures`,
        ),
      });
      await checkSignaturesStorable(parseTransportRef(to), to, [], opts);
    }
    await checkSignaturesStorable(parseTransportRef('dir:/x/d'), 'dir:/x/d', [gpg, sigstore], opts);
    assert.equal(keepsSignatures(parseTransportRef('berth:app')), false);
  });

  it('refuses sigstore signatures where registries.d enables no attachments, and GPG ones for a lookaside it cannot write', async () => {
    const plain = 'docker://registry.example/app:1';
    await checkSignaturesStorable(parseTransportRef(plain), plain, [gpg], opts);
    await assert.rejects(
      checkSignaturesStorable(parseTransportRef(plain), plain, [sigstore], opts),
      /writing sigstore attachments is disabled by configuration/,
    );
    const attached = 'docker://attach.example/app:1';
    await checkSignaturesStorable(parseTransportRef(attached), attached, [sigstore], opts);
    const served = 'docker://web.example/served:1';
    await assert.rejects(checkSignaturesStorable(parseTransportRef(served), served, [gpg], opts), /file:\/\/ lookaside-staging/);
  });

  it('writes them to dir: as containers/image files and reads them back the same', async () => {
    const dir = join(tmp, 'img');
    mkdirSync(dir);
    const manifest = Buffer.from('{}');
    writeFileSync(join(dir, 'manifest.json'), manifest);
    const digest = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
    const ref = parseTransportRef(`dir:${dir}`);
    await putSignatures(ref, digest, [gpg, sigstore], opts);
    assert.deepEqual(readFileSync(join(dir, 'signature-1')), Buffer.from(gpg.bytes));
    assert.deepEqual(readFileSync(join(dir, 'signature-2')), Buffer.from(blobOfSignature(sigstore)));
    assert.deepEqual(await sourceSignatures(ref, digest, opts), [
      { kind: 'simple-signing', bytes: readFileSync(join(dir, 'signature-1')) },
      signatureFromBlob(readFileSync(join(dir, 'signature-2'))),
    ]);
    assert.deepEqual(signatureFromBlob(blobOfSignature(sigstore)), sigstore);
  });
});
