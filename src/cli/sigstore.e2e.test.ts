import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registrySigstoreSignatures } from '../engine/images/index.js';
import { digestOf } from '../oci/digest.js';
import { parseSigstorePayload, SIGSTORE_SIGNATURE_ANNOTATION, verifySigstoreSignature } from '../signature/sigstore.js';
import { berth, busyboxRootfs, ok, tempDir } from '../testing/cli.js';
import { serveBerthRegistry } from '../testing/berth-registry.js';
import { startRegistry, type Registry } from '../testing/registry.js';

/**
 * `generate-sigstore-key` and `push --sign-by-sigstore-private-key` against `berth registry serve` and
 * the CNCF distribution registry (attachments by tag only: it has no referrers API), the attachment then
 * read back over plain HTTP and checked with berth's verifier and, with the public key alone, openssl.
 */

/** The attachment of `digest` in `repo`, read as any client would: the manifest at the `.sig` tag and its layers' blobs. */
async function readAttachment(host: string, repo: string, digest: string) {
  const tag = `${digest.replace(':', '-')}.sig`;
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200, `no ${tag} in ${host}/${repo}`);
  assert.equal(res.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
  const manifest = (await res.json()) as {
    config: { digest: string };
    layers: { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[];
  };
  const layers = [];
  for (const layer of manifest.layers) {
    const payload = Buffer.from(await (await fetch(`http://${host}/v2/${repo}/blobs/${layer.digest}`)).arrayBuffer());
    assert.equal(digestOf(payload), layer.digest);
    assert.equal(payload.length, layer.size);
    layers.push({ ...layer, payload });
  }
  const config = JSON.parse(Buffer.from(await (await fetch(`http://${host}/v2/${repo}/blobs/${manifest.config.digest}`)).arrayBuffer()).toString()) as {
    rootfs: { diff_ids: string[] };
  };
  return { layers, config };
}

describe('sigstore signing through a registry', { timeout: 600_000 }, () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  const keyPrefix = join(tmp.path, 'signer');
  const passFile = join(tmp.path, 'passphrase');
  // containers/image writes sigstore signatures only where registries.d enables attachments.
  const regD = join(tmp.path, 'registries.d');
  const registries: { name: string; host: string; stop: () => Promise<void> }[] = [];

  before(async () => {
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    assert.equal((await berth(root, ['import', '-q', rootfs, 'bb'])).code, 0);
    writeFileSync(passFile, 'correct horse\nsecond line is not the passphrase\n');
    mkdirSync(regD);
    writeFileSync(join(regD, 'attachments.yaml'), 'default-docker:\n  use-sigstore-attachments: true\n');
    const gen = await berth(root, ['generate-sigstore-key', '--output-prefix', keyPrefix, '--passphrase-file', passFile]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal(gen.stdout, `Key written to "${keyPrefix}.private" and "${keyPrefix}.pub"\n`);
    const distribution: Registry = await startRegistry(join(tmp.path, 'distribution'));
    registries.push({ name: 'the CNCF distribution registry', host: distribution.host, stop: distribution.stop });
    const own = await serveBerthRegistry(join(tmp.path, 'berth-registry'), ['--addr', '127.0.0.1:0']);
    registries.push({ name: 'berth registry serve', host: own.host, stop: own.stop });
  });
  after(async () => {
    for (const r of registries) await r.stop();
    tmp.cleanup();
  });

  it('generate-sigstore-key refuses to overwrite a key and to prompt without a terminal', async () => {
    const again = await berth(root, ['generate-sigstore-key', '--output-prefix', keyPrefix, '--passphrase-file', passFile]);
    assert.equal(again.code, 125);
    assert.equal(again.stderr, `Error: Refusing to overwrite existing "${keyPrefix}.private"\n`);
    const noTty = await berth(root, ['generate-sigstore-key', '--output-prefix', join(tmp.path, 'other')], { input: '' });
    assert.equal(noTty.code, 125);
    assert.match(noTty.stderr, /^Error: Cannot prompt for a passphrase for key .*other\.private, standard input is not a TTY\n$/);
  });

  for (const which of [0, 1]) {
    it(`push --sign-by-sigstore-private-key attaches a signature that verifies with the public key (${which === 0 ? 'distribution' : 'berth registry serve'})`, async () => {
      const { host, name } = registries[which]!;
      const digestFile = join(tmp.path, `digest-${which}`);
      const push = await berth(root, [
        'push',
        '--sign-by-sigstore-private-key',
        `${keyPrefix}.private`,
        '--sign-passphrase-file',
        passFile,
        '--registries.d',
        regD,
        '--digestfile',
        digestFile,
        'bb',
        `${host}/berth/signed:1`,
      ]);
      assert.equal(push.code, 0, `${name}: ${push.stderr}`);
      assert.match(
        push.stderr,
        /Writing manifest to image destination\n.*Creating signature: Signing image using a sigstore signature\nStoring signatures\n$/s,
      );
      const digest = readFileSync(digestFile, 'utf8');

      const { layers, config } = await readAttachment(host, 'berth/signed', digest);
      assert.equal(layers.length, 1);
      const [layer] = layers;
      assert.equal(layer!.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
      assert.deepEqual(config.rootfs.diff_ids, [layer!.digest]);
      // berth's verifier, given only the public key file.
      const claim = await verifySigstoreSignature({ payload: layer!.payload, annotations: layer!.annotations }, { keyPath: `${keyPrefix}.pub` });
      assert.deepEqual(claim, { dockerReference: `${host}/berth/signed:1`, manifestDigest: digest });
      const payload = JSON.parse(layer!.payload.toString());
      assert.equal(payload.critical.type, 'cosign container image signature');
      assert.match(payload.optional.creator, /^berth /);
      // openssl, given only the public key file: ECDSA-SHA256 over the payload's exact bytes.
      writeFileSync(join(tmp.path, 'payload'), layer!.payload);
      writeFileSync(join(tmp.path, 'sig'), Buffer.from(layer!.annotations[SIGSTORE_SIGNATURE_ANNOTATION]!, 'base64'));
      const check = await ok('openssl', ['dgst', '-sha256', '-verify', `${keyPrefix}.pub`, '-signature', join(tmp.path, 'sig'), join(tmp.path, 'payload')]);
      assert.equal(check.stdout, 'Verified OK\n');
      // The library reads the same list of signatures from the registry.
      const found = await registrySigstoreSignatures(`${host}/berth/signed:1`, digest, { tlsVerify: false });
      assert.deepEqual(found, [{ kind: 'sigstore', payload: layer!.payload, annotations: layer!.annotations }]);

      // Signing the same manifest under another tag appends a second signature, as cosign does.
      const second = await berth(root, [
        'push',
        '-q',
        '--sign-by-sigstore-private-key',
        `${keyPrefix}.private`,
        '--sign-passphrase-file',
        passFile,
        '--registries.d',
        regD,
        'bb',
        `${host}/berth/signed:2`,
      ]);
      assert.equal(second.code, 0, second.stderr);
      const grown = await readAttachment(host, 'berth/signed', digest);
      assert.equal(grown.layers.length, 2);
      assert.equal(grown.layers[0]!.digest, layer!.digest);
      assert.deepEqual(grown.config.rootfs.diff_ids, [layer!.digest, grown.layers[1]!.digest]);
      assert.equal(parseSigstorePayload(grown.layers[1]!.payload).dockerReference, `${host}/berth/signed:2`);
      for (const l of grown.layers) await verifySigstoreSignature({ payload: l.payload, annotations: l.annotations }, { keyPath: `${keyPrefix}.pub` });
    });
  }

  it('a wrong passphrase fails the push before anything is written; an unsigned image has no signatures', async () => {
    const { host } = registries[0]!;
    writeFileSync(join(tmp.path, 'wrong'), 'wrong horse\n');
    const push = await berth(root, [
      'push',
      '--sign-by-sigstore-private-key',
      `${keyPrefix}.private`,
      '--sign-passphrase-file',
      join(tmp.path, 'wrong'),
      '--registries.d',
      regD,
      'bb',
      `${host}/berth/wrong:1`,
    ]);
    assert.equal(push.code, 125);
    assert.match(push.stderr, /^Error: sigstore private key .*signer\.private: decryption failed \(wrong passphrase\?\)\n$/m);
    assert.equal((await fetch(`http://${host}/v2/berth/wrong/tags/list`)).status, 404);
    // Where registries.d enables no attachments, containers/image refuses to write the signature: so does berth, before the push.
    const noAttachments = await berth(root, [
      'push',
      '--sign-by-sigstore-private-key',
      `${keyPrefix}.private`,
      '--sign-passphrase-file',
      passFile,
      '--registries.d',
      join(tmp.path, 'no-registries.d'),
      'bb',
      `${host}/berth/not-attached:1`,
    ]);
    assert.equal(noAttachments.code, 125);
    assert.match(
      noAttachments.stderr,
      /^Error: writing signatures: writing sigstore attachments is disabled by configuration: set use-sigstore-attachments: true for /m,
    );
    assert.equal((await fetch(`http://${host}/v2/berth/not-attached/tags/list`)).status, 404);
    const plain = await berth(root, ['push', '-q', '--digestfile', join(tmp.path, 'plain-digest'), 'bb', `${host}/berth/unsigned:1`]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(
      await registrySigstoreSignatures(`${host}/berth/unsigned:1`, readFileSync(join(tmp.path, 'plain-digest'), 'utf8'), { tlsVerify: false }),
      [],
    );
  });
});
