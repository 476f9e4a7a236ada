/**
 * Signatures travel with images (issue 17), as containers/image's copy carries them: skopeo signs an
 * image into a file:// lookaside, `berth copy` takes it to another repository (and to `dir:`, and from
 * `dir:` back to a registry) with its signature, and skopeo's and berth's signedBy policies accept the
 * destination; with --remove-signatures they refuse it as unsigned. A destination that cannot hold
 * signatures, or a copy that would change the digest they name, is refused before anything is written.
 * Sigstore signatures: `copy --sign-by-sigstore-private-key` adds one to those copied, and they travel
 * as attachments where registries.d enables them and as `sigstore-json` files in `dir:`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { registrySigstoreSignatures } from '../engine/images/index.js';
import { parseDockerRef } from '../oci/reference.js';
import { simpleSigningVerifier } from '../signature/gpg.js';
import { readLookasideSignatures } from '../signature/lookaside.js';
import { berth, tempDir } from '../testing/cli.js';
import { gpgSigning, lookasideFolder } from '../testing/gpg-signing.js';

describe('copy carries signatures', { timeout: 600_000 }, () => {
  const tmp = tempDir('berth-sigcopy-e2e-');
  const root = join(tmp.path, 'store');
  const signing = gpgSigning(tmp.path);
  const { env, regD, skopeo, skopeoPull } = signing;
  const srcSigs = join(tmp.path, 'src-sigs'); // the lookaside skopeo signs into (HOST/orig)
  const dstSigs = join(tmp.path, 'dst-sigs'); // every other repository's
  const passFile = join(tmp.path, 'passphrase');
  const keyPrefix = join(tmp.path, 'cosign');
  let host = '';
  let fpr = '';
  let digest = '';
  let pubKeyFile = '';
  const pubKey = () => pubKeyFile;
  const b = (args: string[]) => berth(root, args, { env });
  const tls = ['--src-tls-verify=false', '--dest-tls-verify=false'];
  const folder = (base: string, repo: string) => lookasideFolder(base, repo, digest);
  /** A signedBy requirement for images signed as HOST/orig and copied to HOST/<repo> (a mirror's remapIdentity). */
  const signedAsOrig = (repo: string) => ({
    type: 'signedBy',
    keyType: 'GPGKeys',
    keyPath: pubKey(),
    signedIdentity: { type: 'remapIdentity', prefix: `${host}/${repo}`, signedPrefix: `${host}/orig` },
  });
  const policyFile = (name: string, transports: Record<string, unknown>): string =>
    signing.policyFile(name, { dir: { '': [{ type: 'insecureAcceptAnything' }] }, ...transports });
  const dockerPolicy = (name: string, repo: string, extra: unknown[] = []) =>
    policyFile(name, { docker: { [`${host}/${repo}`]: [signedAsOrig(repo), ...extra] } });
  const tagsOf = async (repo: string) => (await fetch(`http://${host}/v2/${repo}/tags/list`)).status;

  before(async () => {
    host = await signing.start();
    writeFileSync(passFile, 'correct horse\n');
    ({ fpr, pubKey: pubKeyFile } = await signing.key('sigcopy'));
    writeFileSync(
      join(regD, 'default.yaml'),
      [
        'default-docker:',
        `  lookaside: ${pathToFileURL(dstSigs).href}`,
        'docker:',
        `  ${host}/orig:`,
        `    lookaside: ${pathToFileURL(srcSigs).href}`,
        `  ${host}/sig:`,
        '    use-sigstore-attachments: true',
        `  ${host}/sig2:`,
        '    use-sigstore-attachments: true',
        '',
      ].join('\n'),
    );
    await signing.importBusybox(root);
    // skopeo signs what the registry holds, into HOST/orig's lookaside.
    digest = await signing.pushSignedBySkopeo(root, 'bb', 'orig:1', fpr);
    assert.ok(existsSync(join(folder(srcSigs, 'orig'), 'signature-1')));
    const gen = await b(['generate-sigstore-key', '--output-prefix', keyPrefix, '--passphrase-file', passFile]);
    assert.equal(gen.code, 0, gen.stderr);
  });
  after(async () => {
    await signing.stop();
    tmp.cleanup();
  });

  it("copies skopeo's signature to the destination's lookaside, where skopeo and berth pull accept it; --remove-signatures leaves it behind", async () => {
    const copied = await b(['copy', '-q', ...tls, '--registries.d', regD, `docker://${host}/orig:1`, `docker://${host}/mirror:1`]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.deepEqual(readFileSync(join(folder(dstSigs, 'mirror'), 'signature-1')), readFileSync(join(folder(srcSigs, 'orig'), 'signature-1')));
    assert.ok(!existsSync(join(folder(dstSigs, 'mirror'), 'signature-2')));
    const policy = dockerPolicy('mirror.json', 'mirror');
    const accepted = await skopeoPull(policy, 'mirror:1');
    assert.equal(accepted.code, 0, accepted.stderr);
    const pulled = await b(['pull', '-q', '--tls-verify=false', '--signature-policy', policy, '--registries.d', regD, `${host}/mirror:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    // Copied again: the set is replaced, not appended to (containers/image's lookaside writes).
    assert.equal((await b(['copy', '-q', ...tls, '--registries.d', regD, `docker://${host}/orig:1`, `docker://${host}/mirror:2`])).code, 0);
    assert.ok(!existsSync(join(folder(dstSigs, 'mirror'), 'signature-2')));

    // --sign-by adds berth's signature after the copied one; each verifies, for its own identity.
    const resigned = await b(['copy', '-q', ...tls, '--sign-by', fpr, '--registries.d', regD, `docker://${host}/orig:1`, `docker://${host}/resigned:1`]);
    assert.equal(resigned.code, 0, resigned.stderr);
    const [first, second, third] = await readLookasideSignatures(pathToFileURL(dstSigs).href, parseDockerRef(`${host}/resigned:1`), digest);
    assert.equal(third, undefined);
    const keys = { keyPaths: [pubKey()] };
    assert.deepEqual(await simpleSigningVerifier(first!, keys), { dockerReference: `${host}/orig:1`, manifestDigest: digest });
    assert.deepEqual(await simpleSigningVerifier(second!, keys), { dockerReference: `${host}/resigned:1`, manifestDigest: digest });

    const bare = await b(['copy', '-q', ...tls, '--remove-signatures', '--registries.d', regD, `docker://${host}/orig:1`, `docker://${host}/bare:1`]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.ok(!existsSync(folder(dstSigs, 'bare')));
    const refused = await skopeoPull(dockerPolicy('bare.json', 'bare'), 'bare:1');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /signature/i);
    const notPulled = await b([
      'pull',
      '-q',
      '--tls-verify=false',
      '--signature-policy',
      join(tmp.path, 'bare.json'),
      '--registries.d',
      regD,
      `${host}/bare:1`,
    ]);
    assert.equal(notPulled.code, 125);
    assert.match(notPulled.stderr, /^Error: Source image rejected: .*signature/m);
    // pull --remove-signatures keeps none in the store, and the policy still checks them.
    const removedPull = await b([
      'pull',
      '-q',
      '--remove-signatures',
      '--tls-verify=false',
      '--signature-policy',
      join(tmp.path, 'bare.json'),
      '--registries.d',
      regD,
      `${host}/bare:1`,
    ]);
    assert.equal(removedPull.code, 125);
  });

  it('copies signatures to dir: as signature-N files and from dir: back to a registry', async () => {
    const dir = join(tmp.path, 'dir-copy');
    const toDir = await b(['copy', '-q', '--src-tls-verify=false', '--registries.d', regD, `docker://${host}/orig:1`, `dir:${dir}`]);
    assert.equal(toDir.code, 0, toDir.stderr);
    assert.deepEqual(readFileSync(join(dir, 'signature-1')), readFileSync(join(folder(srcSigs, 'orig'), 'signature-1')));
    // skopeo's dir: transport reads the file as its own, under a signedBy policy for dir: images.
    const dirPolicy = join(tmp.path, 'dir-signed.json');
    writeFileSync(
      dirPolicy,
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          dir: {
            '': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: pubKey(), signedIdentity: { type: 'exactReference', dockerReference: `${host}/orig:1` } }],
          },
        },
      }),
    );
    const byDir = await skopeo(['--policy', dirPolicy, 'copy', `dir:${dir}`, `dir:${join(tmp.path, 'dir-by-skopeo')}`]);
    assert.equal(byDir.code, 0, byDir.stderr);

    // From dir: to a registry, the source judged by its signature file under the same policy.
    const back = await b(['copy', '-q', '--dest-tls-verify=false', '--policy', dirPolicy, '--registries.d', regD, `dir:${dir}`, `docker://${host}/fromdir:1`]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(readFileSync(join(folder(dstSigs, 'fromdir'), 'signature-1')), readFileSync(join(dir, 'signature-1')));
    const accepted = await skopeoPull(dockerPolicy('fromdir.json', 'fromdir'), 'fromdir:1');
    assert.equal(accepted.code, 0, accepted.stderr);
    // An unsigned dir: image is refused by that policy before anything is written.
    const unsignedDir = join(tmp.path, 'dir-unsigned');
    assert.equal((await b(['copy', '-q', '--src-tls-verify=false', '--remove-signatures', `docker://${host}/orig:1`, `dir:${unsignedDir}`])).code, 0);
    assert.ok(!existsSync(join(unsignedDir, 'signature-1')));
    const refused = await b(['copy', '-q', '--dest-tls-verify=false', '--policy', dirPolicy, `dir:${unsignedDir}`, `docker://${host}/fromdir-unsigned:1`]);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /^Error: Source image rejected: /m);
    assert.equal(await tagsOf('fromdir-unsigned'), 404);
  });

  it('refuses, before writing anything, signatures an OCI layout cannot hold and a copy that would change their digest', async () => {
    const layout = join(tmp.path, 'layout');
    const toOci = await b(['copy', '-q', '--src-tls-verify=false', '--registries.d', regD, `docker://${host}/orig:1`, `oci:${layout}:1`]);
    assert.equal(toOci.code, 125);
    assert.match(toOci.stderr, /^Error: Can not copy signatures to oci:.*: Pushing signatures to this destination is not supported .*--remove-signatures/m);
    assert.ok(!existsSync(layout));
    const removed = await b([
      'copy',
      '-q',
      '--src-tls-verify=false',
      '--remove-signatures',
      '--registries.d',
      regD,
      `docker://${host}/orig:1`,
      `oci:${layout}:1`,
    ]);
    assert.equal(removed.code, 0, removed.stderr);
    // An unsigned source goes to an OCI layout as before.
    assert.equal((await b(['copy', '-q', '--src-tls-verify=false', '--registries.d', regD, `docker://${host}/bare:1`, `oci:${layout}:2`])).code, 0);

    const zstd = await b([
      'copy',
      '-q',
      ...tls,
      '--dest-compress-format',
      'zstd',
      '--registries.d',
      regD,
      `docker://${host}/orig:1`,
      `docker://${host}/zstd:1`,
    ]);
    assert.equal(zstd.code, 125);
    assert.match(zstd.stderr, /^Error: Would invalidate signatures \(copy with --remove-signatures .*\): recompressing the layers changes the manifest/m);
    assert.equal(await tagsOf('zstd'), 404);
    const zstdBare = await b([
      'copy',
      '-q',
      ...tls,
      '--remove-signatures',
      '--dest-compress-format',
      'zstd',
      '--registries.d',
      regD,
      `docker://${host}/orig:1`,
      `docker://${host}/zstd:1`,
    ]);
    assert.equal(zstdBare.code, 0, zstdBare.stderr);
    // berth's store keeps signatures (beside the image's record): a signed image is copied into it with them.
    assert.equal((await b(['copy', '-q', '--src-tls-verify=false', '--registries.d', regD, `docker://${host}/orig:1`, 'berth:copied-in'])).code, 0);
  });

  it('sync carries signatures into dir: trees and refuses them for OCI layouts unless --remove-signatures', async () => {
    const out = join(tmp.path, 'synced');
    const synced = await b(['sync', '-q', '--src', 'docker', '--dest', 'dir', '--src-tls-verify=false', '--registries.d', regD, `${host}/orig:1`, out]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(readFileSync(join(out, 'orig:1', 'signature-1')), readFileSync(join(folder(srcSigs, 'orig'), 'signature-1')));
    const oci = join(tmp.path, 'synced-oci');
    const refused = await b(['sync', '-q', '--src', 'docker', '--dest', 'oci', '--src-tls-verify=false', '--registries.d', regD, `${host}/orig:1`, oci]);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /Pushing signatures to this destination is not supported/);
    const removed = await b([
      'sync',
      '-q',
      '--src',
      'docker',
      '--dest',
      'oci',
      '--remove-signatures',
      '--src-tls-verify=false',
      '--registries.d',
      regD,
      `${host}/orig:1`,
      oci,
    ]);
    assert.equal(removed.code, 0, removed.stderr);
  });

  it("copy --all carries an index's signatures and each child's (dir: keeps a child's as <hex>.signature-N)", async () => {
    const ok0 = async (args: string[]) => {
      const r = await b(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    };
    await ok0(['manifest', 'create', 'sigcopy-list']);
    await ok0(['manifest', 'add', '--tls-verify=false', 'sigcopy-list', `docker://${host}/orig:1`]);
    const listDigestFile = join(tmp.path, 'list.digest');
    await ok0(['manifest', 'push', '--tls-verify=false', '--digestfile', listDigestFile, 'sigcopy-list', `docker://${host}/list:1`]);
    await ok0(['manifest', 'rm', 'sigcopy-list']);
    const listDigest = readFileSync(listDigestFile, 'utf8').trim();
    await ok0(['image', 'sign', '--all', '--tls-verify=false', '--sign-by', fpr, '--registries.d', regD, `${host}/list:1`]);
    const signatureOf = (repo: string, d: string) => readFileSync(join(dstSigs, `${repo}@${d.replace(':', '=')}`, 'signature-1'));

    const dir = join(tmp.path, 'dir-list');
    await ok0(['copy', '-q', '--all', '--src-tls-verify=false', '--registries.d', regD, `docker://${host}/list:1`, `dir:${dir}`]);
    assert.deepEqual(readFileSync(join(dir, 'signature-1')), signatureOf('list', listDigest));
    assert.deepEqual(readFileSync(join(dir, `${digest.slice('sha256:'.length)}.signature-1`)), signatureOf('list', digest));
    // And from there to another repository: both land in its lookaside, under the same digests.
    await ok0(['copy', '-q', '--all', '--dest-tls-verify=false', '--registries.d', regD, `dir:${dir}`, `docker://${host}/list2:1`]);
    assert.deepEqual(signatureOf('list2', listDigest), signatureOf('list', listDigest));
    assert.deepEqual(signatureOf('list2', digest), signatureOf('list', digest));
    // skopeo verifies the index's signature when it copies the list whole from the copy.
    const policy = policyFile('list2.json', {
      docker: {
        [`${host}/list2`]: [
          {
            type: 'signedBy',
            keyType: 'GPGKeys',
            keyPath: pubKey(),
            signedIdentity: { type: 'remapIdentity', prefix: `${host}/list2`, signedPrefix: `${host}/list` },
          },
        ],
      },
    });
    const all = await skopeoPull(policy, 'list2:1', ['--all']);
    assert.equal(all.code, 0, all.stderr);
  });

  it('copy --sign-by-sigstore-private-key adds a sigstore signature to those copied; sigstore signatures travel as attachments and sigstore-json files', async () => {
    const sign = ['--sign-by-sigstore-private-key', `${keyPrefix}.private`, '--sign-passphrase-file', passFile];
    const copied = await b(['copy', '-q', ...tls, ...sign, '--registries.d', regD, `docker://${host}/orig:1`, `docker://${host}/sig:1`]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.ok(existsSync(join(folder(dstSigs, 'sig'), 'signature-1')));
    assert.equal((await registrySigstoreSignatures(`${host}/sig:1`, digest, { tlsVerify: false })).length, 1);
    // Both kinds required at once: the copied GPG one and the new sigstore one.
    const both = dockerPolicy('both.json', 'sig', [{ type: 'sigstoreSigned', keyPath: `${keyPrefix}.pub`, signedIdentity: { type: 'matchRepository' } }]);
    const pulled = await b(['pull', '-q', '--tls-verify=false', '--signature-policy', both, '--registries.d', regD, `${host}/sig:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);

    // Where registries.d enables no attachments the sigstore signature cannot be written: refused before the copy.
    const noAttach = await b(['copy', '-q', ...tls, ...sign, '--registries.d', regD, `docker://${host}/orig:1`, `docker://${host}/plain:1`]);
    assert.equal(noAttach.code, 125);
    assert.match(noAttach.stderr, /^Error: writing signatures: writing sigstore attachments is disabled by configuration/m);
    assert.equal(await tagsOf('plain'), 404);
    // So is copying an image that carries one there.
    const carried = await b(['copy', '-q', ...tls, '--registries.d', regD, `docker://${host}/sig:1`, `docker://${host}/plain:1`]);
    assert.equal(carried.code, 125);
    assert.match(carried.stderr, /disabled by configuration/);
    assert.equal(await tagsOf('plain'), 404);

    // To another repository with attachments: both kinds go along.
    const again = await b(['copy', '-q', ...tls, '--registries.d', regD, `docker://${host}/sig:1`, `docker://${host}/sig2:1`]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      await registrySigstoreSignatures(`${host}/sig2:1`, digest, { tlsVerify: false }),
      await registrySigstoreSignatures(`${host}/sig:1`, digest, { tlsVerify: false }),
    );
    assert.ok(existsSync(join(folder(dstSigs, 'sig2'), 'signature-1')));
    // To dir:: the GPG signature as it is, the sigstore one as containers/image's sigstore-json file.
    const dir = join(tmp.path, 'dir-sig');
    const toDir = await b(['copy', '-q', '--src-tls-verify=false', '--registries.d', regD, `docker://${host}/sig:1`, `dir:${dir}`]);
    assert.equal(toDir.code, 0, toDir.stderr);
    assert.ok(existsSync(join(dir, 'signature-1')));
    assert.equal(readFileSync(join(dir, 'signature-2')).subarray(0, 15).toString(), '\0sigstore-json\n');
    const dirPolicy = policyFile('dir-cosign.json', {
      dir: { '': [{ type: 'sigstoreSigned', keyPath: `${keyPrefix}.pub`, signedIdentity: { type: 'exactReference', dockerReference: `${host}/sig:1` } }] },
    });
    const back = await b(['copy', '-q', '--dest-tls-verify=false', '--policy', dirPolicy, '--registries.d', regD, `dir:${dir}`, `docker://${host}/sig2:2`]);
    assert.equal(back.code, 0, back.stderr);
  });
});
