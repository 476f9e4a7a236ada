/**
 * GPG simple signing both ways against skopeo (issue 17): berth signs (push, copy, image sign) with
 * keys of a GnuPG home made here, the signatures land in a file:// lookaside registries.d names, and
 * skopeo's (and podman pull's) signedBy policy accepts the images and refuses an unsigned one;
 * skopeo signs, and berth's verifier accepts what it wrote. The registry is the CNCF distribution registry on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseDockerRef } from '../oci/reference.js';
import { berth, ok, podmanArgs, run, tempDir } from '../testing/cli.js';
import { gpgSigning } from '../testing/gpg-signing.js';
import { simpleSigningVerifier } from './gpg.js';
import { readLookasideSignatures } from './lookaside.js';

describe('GPG simple signing with skopeo', { timeout: 600_000 }, () => {
  const tmp = tempDir('berth-gpg-e2e-');
  const root = join(tmp.path, 'store');
  const signing = gpgSigning(tmp.path);
  const { env, regD, skopeo, skopeoPull } = signing;
  const sigs = join(tmp.path, 'sigs');
  const passFile = join(tmp.path, 'passphrase');
  let host = '';
  let plain = ''; // fingerprint of the key without a passphrase
  let guarded = ''; // and of the one with
  const policyFile = (name: string, docker: Record<string, unknown>): string =>
    signing.policyFile(name, { docker, dir: { '': [{ type: 'insecureAcceptAnything' }] } });
  const signedBy = (key: string) => [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: key }];

  before(async () => {
    host = await signing.start();
    writeFileSync(passFile, 'correct horse battery\n');
    // Exported to plain.gpg and guarded.gpg.
    plain = (await signing.key('plain')).fpr;
    guarded = (await signing.key('guarded', { passphraseFile: passFile })).fpr;
    writeFileSync(join(regD, 'default.yaml'), `default-docker:\n  lookaside: ${pathToFileURL(sigs).href}\n`);
    await signing.importBusybox(root);
  });
  after(async () => {
    await signing.stop();
    tmp.cleanup();
  });

  it('push --sign-by writes a signature skopeo accepts under signedBy, and skopeo refuses the unsigned image', async () => {
    const digestFile = join(tmp.path, 'signed.digest');
    const pushed = await berth(
      root,
      ['push', '-q', '--tls-verify=false', '--sign-by', plain, '--registries.d', regD, '--digestfile', digestFile, 'bb', `${host}/signed:1`],
      { env },
    );
    assert.equal(pushed.code, 0, pushed.stderr);
    const digest = readFileSync(digestFile, 'utf8').trim();
    // containers/image's layout: <lookaside>/<path>@sha256=<hex>/signature-1
    assert.ok(existsSync(join(sigs, `signed@${digest.replace(':', '=')}`, 'signature-1')));
    const unsigned = await berth(root, ['push', '-q', '--tls-verify=false', 'bb', `${host}/unsigned:1`], { env });
    assert.equal(unsigned.code, 0, unsigned.stderr);

    const policy = policyFile('plain-policy.json', { [host]: signedBy(join(tmp.path, 'plain.gpg')) });
    const accepted = await skopeoPull(policy, 'signed:1');
    assert.equal(accepted.code, 0, accepted.stderr);
    const refused = await skopeoPull(policy, 'unsigned:1');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /signature/i);
    // Under another key's policy the signature is no good.
    const other = await skopeoPull(policyFile('guarded-policy.json', { [host]: signedBy(join(tmp.path, 'guarded.gpg')) }), 'signed:1');
    assert.notEqual(other.code, 0);

    // image sign signs what the registry holds: the unsigned image is accepted afterwards.
    const signed = await berth(root, ['image', 'sign', '--tls-verify=false', '--sign-by', plain, '--registries.d', regD, `docker://${host}/unsigned:1`], {
      env,
    });
    assert.equal(signed.code, 0, signed.stderr);
    assert.equal((await skopeoPull(policy, 'unsigned:1')).code, 0);

    // --directory: podman's layout under that folder, instead of the lookaside; the signature verifies.
    const dir = join(tmp.path, 'sign-dir');
    const inDir = await berth(root, ['image', 'sign', '--tls-verify=false', '--sign-by', plain, '--directory', dir, `${host}/signed:1`], { env });
    assert.equal(inDir.code, 0, inDir.stderr);
    const [one] = await readLookasideSignatures(pathToFileURL(dir).href, parseDockerRef(`${host}/signed:1`), digest);
    assert.deepEqual(await simpleSigningVerifier(one!, { keyPaths: [join(tmp.path, 'plain.gpg')] }), {
      dockerReference: `${host}/signed:1`,
      manifestDigest: digest,
    });
    assert.ok(existsSync(join(dir, `signed@${digest.replace(':', '=')}`, 'signature-1')));
  });

  it("podman pull --signature-policy accepts berth's signature and refuses an unsigned image", async () => {
    // podman has no --registries.d: as containers/image does, it reads ~/.config/containers/registries.d when that exists.
    const home = join(tmp.path, 'podman-home');
    mkdirSync(join(home, '.config', 'containers'), { recursive: true });
    await ok('cp', ['-r', regD, join(home, '.config', 'containers', 'registries.d')]);
    const pushed = await berth(root, ['push', '-q', '--tls-verify=false', 'bb', `${host}/never-signed:1`], { env });
    assert.equal(pushed.code, 0, pushed.stderr);
    const policy = policyFile('podman-policy.json', { [host]: signedBy(join(tmp.path, 'plain.gpg')) });
    const podman = (args: string[]) => run('podman', [...podmanArgs(tmp.path), ...args], { env: { ...env, HOME: home } });
    try {
      const accepted = await podman(['pull', '-q', '--tls-verify=false', '--signature-policy', policy, `${host}/signed:1`]);
      assert.equal(accepted.code, 0, accepted.stderr);
      const refused = await podman(['pull', '-q', '--tls-verify=false', '--signature-policy', policy, `${host}/never-signed:1`]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /signature/i);
    } finally {
      await podman(['system', 'reset', '-f']);
    }
  });

  it('push --sign-by with a passphrase file, and copy --sign-by, sign what the destination holds', async () => {
    const pushed = await berth(
      root,
      ['push', '-q', '--tls-verify=false', '--sign-by', guarded, '--sign-passphrase-file', passFile, '--registries.d', regD, 'bb', `${host}/guarded:1`],
      { env },
    );
    assert.equal(pushed.code, 0, pushed.stderr);
    const guardedPolicy = policyFile('guarded-only.json', { [`${host}/guarded`]: signedBy(join(tmp.path, 'guarded.gpg')) });
    const accepted = await skopeoPull(guardedPolicy, 'guarded:1');
    assert.equal(accepted.code, 0, accepted.stderr);
    // The agent remembers the passphrase it was just given: forget it, so the wrong one is asked about.
    await ok('gpgconf', ['--reload', 'gpg-agent'], { env });
    const wrong = await berth(
      root,
      [
        'push',
        '-q',
        '--tls-verify=false',
        '--sign-by',
        guarded,
        '--sign-passphrase-file',
        join(tmp.path, 'plain.gpg'),
        '--registries.d',
        regD,
        'bb',
        `${host}/wrong:1`,
      ],
      { env },
    );
    assert.equal(wrong.code, 125);
    assert.match(wrong.stderr, /^Error: signing with key /m);

    const copied = await berth(
      root,
      [
        'copy',
        '-q',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        '--sign-by',
        plain,
        '--registries.d',
        regD,
        `docker://${host}/unsigned:1`,
        `docker://${host}/copied:1`,
      ],
      { env },
    );
    assert.equal(copied.code, 0, copied.stderr);
    const policy = policyFile('plain-copied.json', { [`${host}/copied`]: signedBy(join(tmp.path, 'plain.gpg')) });
    assert.equal((await skopeoPull(policy, 'copied:1')).code, 0);
    // Signing needs a docker:// destination: refused before anything is copied.
    const toDir = await berth(
      root,
      ['copy', '-q', '--src-tls-verify=false', '--sign-by', plain, `docker://${host}/unsigned:1`, `dir:${join(tmp.path, 'dir-out')}`],
      { env },
    );
    assert.equal(toDir.code, 125);
    assert.ok(!existsSync(join(tmp.path, 'dir-out')));
  });

  it('image sign --all signs an index and every image it lists', async () => {
    const b = async (args: string[]) => {
      const r = await berth(root, args, { env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    await b(['manifest', 'create', 'siglist']);
    await b(['manifest', 'add', '--tls-verify=false', 'siglist', `docker://${host}/signed:1`]);
    const listDigestFile = join(tmp.path, 'list.digest');
    await b(['manifest', 'push', '--tls-verify=false', '--digestfile', listDigestFile, 'siglist', `docker://${host}/listed:1`]);
    const listDigest = readFileSync(listDigestFile, 'utf8').trim();
    const index = JSON.parse(
      await (
        await fetch(`http://${host}/v2/listed/manifests/${listDigest}`, {
          headers: { Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' },
        })
      ).text(),
    ) as {
      manifests: { digest: string }[];
    };
    assert.equal(index.manifests.length, 1);
    await b(['image', 'sign', '--all', '--tls-verify=false', '--sign-by', plain, '--registries.d', regD, `${host}/listed:1`]);
    const keys = { keyPaths: [join(tmp.path, 'plain.gpg')] };
    const ref = parseDockerRef(`${host}/listed:1`);
    for (const digest of [listDigest, index.manifests[0]!.digest]) {
      const found = await readLookasideSignatures(pathToFileURL(sigs).href, ref, digest);
      assert.equal(found.length, 1, digest);
      assert.deepEqual(await simpleSigningVerifier(found[0]!, keys), { dockerReference: `${host}/listed:1`, manifestDigest: digest });
    }
    // skopeo verifies the index's signature when it copies the list whole.
    const policy = policyFile('plain-listed.json', { [`${host}/listed`]: signedBy(join(tmp.path, 'plain.gpg')) });
    const all = await skopeoPull(policy, 'listed:1', ['--all']);
    assert.equal(all.code, 0, all.stderr);
    await b(['manifest', 'rm', 'siglist']);
  });

  it("berth's verifier accepts the signature skopeo copy --sign-by wrote", async () => {
    const accept = join(tmp.path, 'accept.json');
    writeFileSync(accept, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    const digestFile = join(tmp.path, 'skopeo.digest');
    const r = await skopeo([
      '--policy',
      accept,
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--sign-by',
      plain,
      '--digestfile',
      digestFile,
      `docker://${host}/signed:1`,
      `docker://${host}/by-skopeo:2`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const digest = readFileSync(digestFile, 'utf8').trim();
    const ref = parseDockerRef(`${host}/by-skopeo:2`);
    const found = await readLookasideSignatures(pathToFileURL(sigs).href, ref, digest);
    // skopeo carried berth's signature of signed:1 over (same digest) and added its own.
    assert.equal(found.length, 2);
    const keys = { keyPaths: [join(tmp.path, 'plain.gpg')] };
    assert.deepEqual(await simpleSigningVerifier(found[0]!, keys), { dockerReference: `${host}/signed:1`, manifestDigest: digest });
    assert.deepEqual(await simpleSigningVerifier(found[1]!, keys), { dockerReference: `${host}/by-skopeo:2`, manifestDigest: digest });
    await assert.rejects(simpleSigningVerifier(found[1]!, { keyPaths: [join(tmp.path, 'guarded.gpg')] }), /signed by an unknown key/);
  });
});
