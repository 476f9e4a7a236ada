/**
 * berth's store keeps an image's signatures, as containers-storage does (issue 17): skopeo signs an
 * image in a CNCF distribution registry (file:// lookaside), `berth pull` takes it under a signedBy
 * policy and keeps the signature beside the image's record, `berth push` carries it to another
 * repository's lookaside, where skopeo's signedBy policy accepts it; `--remove-signatures` leaves it
 * behind (skopeo then refuses the image as unsigned), a push that would convert the signed manifest
 * is refused naming --remove-signatures, `copy` into and out of `berth:` keeps and carries it, and
 * `rmi` removes the signatures file with the image. Out of a multi-platform index (skopeo `copy --all
 * --sign-by` signs it and each child), `pull --platform` judges and keeps the child's own signature,
 * which push and copy carry.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { berth, tempDir } from '../testing/cli.js';
import { gpgSigning, lookasideFolder } from '../testing/gpg-signing.js';

describe('the store keeps signatures', { timeout: 600_000 }, () => {
  const tmp = tempDir('berth-storesig-e2e-');
  const root = join(tmp.path, 'store');
  const signing = gpgSigning(tmp.path);
  const { env, regD } = signing;
  const srcSigs = join(tmp.path, 'src-sigs'); // HOST/orig's lookaside, where skopeo signs
  const dstSigs = join(tmp.path, 'dst-sigs'); // every other repository's
  let host = '';
  let fpr = '';
  let digest = '';
  let mediaType = '';
  let pubKey = '';
  const b = (args: string[]) => berth(root, args, { env });
  const folder = (base: string, repo: string) => lookasideFolder(base, repo, digest);
  const origSignature = () => readFileSync(join(folder(srcSigs, 'orig'), 'signature-1'));
  const signaturesDir = join(root, 'signatures');
  const tagsOf = async (repo: string) => (await fetch(`http://${host}/v2/${repo}/tags/list`)).status;
  /** A policy whose HOST/<repo> needs the key's signature of an image signed as HOST/<signedAs> (orig:1 unless told). */
  const policyFor = (repo: string, signedAs = 'orig'): string => {
    const requirement = {
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyPath: pubKey,
      signedIdentity: { type: 'remapIdentity', prefix: `${host}/${repo}`, signedPrefix: `${host}/${signedAs}` },
    };
    return signing.policyFile(`${repo}.json`, { docker: { [`${host}/${repo}`]: [requirement] } });
  };
  const skopeoPull = (repo: string) => signing.skopeoPull(policyFor(repo), `${repo}:1`);
  const push = (args: string[]) => b(['push', '-q', '--tls-verify=false', '--registries.d', regD, ...args]);

  before(async () => {
    host = await signing.start();
    ({ fpr, pubKey } = await signing.key('storesig'));
    writeFileSync(
      join(regD, 'default.yaml'),
      [
        'default-docker:',
        `  lookaside: ${pathToFileURL(dstSigs).href}`,
        'docker:',
        `  ${host}/orig:`,
        `    lookaside: ${pathToFileURL(srcSigs).href}`,
        '',
      ].join('\n'),
    );
    // The image is made and pushed from another store: the store under test starts empty.
    const maker = join(tmp.path, 'maker');
    await signing.importBusybox(maker);
    digest = await signing.pushSignedBySkopeo(maker, 'bb', 'orig:1', fpr);
    assert.ok(existsSync(join(folder(srcSigs, 'orig'), 'signature-1')));
    const head = await fetch(`http://${host}/v2/orig/manifests/1`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    mediaType = head.headers.get('content-type') ?? '';
    assert.equal(head.headers.get('docker-content-digest'), digest);
  });
  after(async () => {
    await signing.stop();
    tmp.cleanup();
  });

  it('pull keeps the signature it verified; push carries it to the destination, where skopeo accepts it', async () => {
    const pulled = await b(['pull', '-q', '--tls-verify=false', '--signature-policy', policyFor('orig'), '--registries.d', regD, `${host}/orig:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const files = readdirSync(signaturesDir);
    assert.deepEqual(files, [`${pulled.stdout.trim()}.json`]);
    const kept = JSON.parse(readFileSync(join(signaturesDir, files[0]!), 'utf8')) as { manifests: Record<string, { kind: string; bytes: string }[]> };
    assert.deepEqual(Object.keys(kept.manifests), [digest]);
    assert.equal(kept.manifests[digest]!.length, 1);
    assert.deepEqual(Buffer.from(kept.manifests[digest]![0]!.bytes, 'base64'), origSignature());

    const pushed = await push([`${host}/orig:1`, `${host}/pushed:1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.deepEqual(readFileSync(join(folder(dstSigs, 'pushed'), 'signature-1')), origSignature());
    const accepted = await skopeoPull('pushed');
    assert.equal(accepted.code, 0, accepted.stderr);
  });

  it('push --remove-signatures leaves them behind: skopeo refuses the destination as unsigned', async () => {
    const pushed = await push(['--remove-signatures', `${host}/orig:1`, `${host}/bare:1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.ok(!existsSync(folder(dstSigs, 'bare')));
    const refused = await skopeoPull('bare');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /signature/i);
  });

  it('refuses a push that would convert the signed manifest, naming --remove-signatures', async () => {
    const other = mediaType === 'application/vnd.docker.distribution.manifest.v2+json' ? 'oci' : 'v2s2';
    const converted = await push(['--format', other, `${host}/orig:1`, `${host}/converted:1`]);
    assert.equal(converted.code, 125);
    assert.match(converted.stderr, /^Error: Would invalidate signatures: --format .*--remove-signatures/m);
    assert.equal(await tagsOf('converted'), 404);
    const recompressed = await push(['--compression-format', 'zstd', `${host}/orig:1`, `${host}/converted:1`]);
    assert.equal(recompressed.code, 125);
    assert.match(recompressed.stderr, /^Error: Would invalidate signatures: .*--remove-signatures/m);
    assert.equal(await tagsOf('converted'), 404);
    const bare = await push(['--remove-signatures', '--format', other, `${host}/orig:1`, `${host}/converted:1`]);
    assert.equal(bare.code, 0, bare.stderr);
    // The same format as stored is no conversion: the signature goes with it.
    const same = await push(['--format', other === 'oci' ? 'v2s2' : 'oci', `${host}/orig:1`, `${host}/same:1`]);
    assert.equal(same.code, 0, same.stderr);
    assert.deepEqual(readFileSync(join(folder(dstSigs, 'same'), 'signature-1')), origSignature());
  });

  it('copy out of berth: carries them, copy into berth: keeps them, and rmi removes the file with the image', async () => {
    const out = await b(['copy', '-q', '--dest-tls-verify=false', '--registries.d', regD, `berth:${host}/orig:1`, `docker://${host}/copied:1`]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(readFileSync(join(folder(dstSigs, 'copied'), 'signature-1')), origSignature());
    assert.equal((await skopeoPull('copied')).code, 0);
    const dir = join(tmp.path, 'dir-out');
    assert.equal((await b(['copy', '-q', `berth:${host}/orig:1`, `dir:${dir}`])).code, 0);
    assert.deepEqual(readFileSync(join(dir, 'signature-1')), origSignature());

    // A second store: copy docker:// → berth: keeps the signature, as pull does; --remove-signatures keeps none.
    const other = join(tmp.path, 'store2');
    const copied = await berth(other, ['copy', '-q', '--src-tls-verify=false', '--registries.d', regD, `docker://${host}/orig:1`, 'berth:in'], { env });
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(readdirSync(join(other, 'signatures')).length, 1);
    const back = await berth(other, ['push', '-q', '--tls-verify=false', '--registries.d', regD, 'in', `${host}/fromcopy:1`], { env });
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(readFileSync(join(folder(dstSigs, 'fromcopy'), 'signature-1')), origSignature());
    assert.equal((await berth(other, ['rmi', 'in'], { env })).code, 0);
    const bare = await berth(
      other,
      ['copy', '-q', '--remove-signatures', '--src-tls-verify=false', '--registries.d', regD, `docker://${host}/orig:1`, 'berth:in'],
      {
        env,
      },
    );
    assert.equal(bare.code, 0, bare.stderr);
    assert.deepEqual(readdirSync(join(other, 'signatures')), []);
    // A dir: image's signature files are kept too.
    const fromDir = await berth(other, ['copy', '-q', `dir:${dir}`, 'berth:fromdir'], { env });
    assert.equal(fromDir.code, 0, fromDir.stderr);
    assert.equal(readdirSync(join(other, 'signatures')).length, 1);
    assert.equal((await berth(other, ['rmi', '-a', '-f'], { env })).code, 0);
    assert.deepEqual(readdirSync(join(other, 'signatures')), []);

    // rmi of the pulled image: its signatures file goes with it.
    assert.equal(readdirSync(signaturesDir).length, 1);
    const removed = await b(['rmi', '-f', `${host}/orig:1`]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(readdirSync(signaturesDir), []);
  });

  it("pull --platform of an index's child keeps the child's own signature; push carries it, skopeo accepts it", async () => {
    const maker = join(tmp.path, 'maker');
    const inMaker = async (args: string[]) => {
      const r = await berth(maker, args, { env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    // A two-platform index: the busybox image as amd64 and as arm64 (other configs, so other manifests).
    await inMaker(['import', '-q', '--arch', 'arm64', '--change', 'CMD ["/bin/sh"]', join(tmp.path, 'busybox.tar'), 'bb-arm64']);
    await inMaker(['push', '-q', '--tls-verify=false', 'bb', `${host}/plat:amd64`]);
    await inMaker(['push', '-q', '--tls-verify=false', 'bb-arm64', `${host}/plat:arm64`]);
    await inMaker(['manifest', 'create', 'plat-list']);
    await inMaker(['manifest', 'add', '--tls-verify=false', 'plat-list', `docker://${host}/plat:amd64`]);
    await inMaker(['manifest', 'add', '--tls-verify=false', 'plat-list', `docker://${host}/plat:arm64`]);
    const listDigestFile = join(tmp.path, 'plat-list.digest');
    await inMaker(['manifest', 'push', '--tls-verify=false', '--digestfile', listDigestFile, 'plat-list', `docker://${host}/plat:1`]);
    // skopeo signs the index and each child, under its own digest, in HOST/plat's lookaside.
    const accept = signing.policyFile('plat-accept.json', { docker: { '': [{ type: 'insecureAcceptAnything' }] } });
    const signed = await signing.skopeo([
      '--policy',
      accept,
      'copy',
      '--all',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--sign-by',
      fpr,
      `docker://${host}/plat:1`,
      `docker://${host}/plat:1`,
    ]);
    assert.equal(signed.code, 0, signed.stderr);
    const armDigest = (await fetch(`http://${host}/v2/plat/manifests/arm64`, { method: 'HEAD', headers: { Accept: mediaType } })).headers.get(
      'docker-content-digest',
    )!;
    const armSignature = readFileSync(join(lookasideFolder(dstSigs, 'plat', armDigest), 'signature-1'));
    // The policy judges the manifest pulled, not the index (containers/image's copy of one instance): without the
    // index's signature the child's own lets it in.
    const listFolder = lookasideFolder(dstSigs, 'plat', readFileSync(listDigestFile, 'utf8').trim());
    assert.ok(existsSync(join(listFolder, 'signature-1')));
    rmSync(listFolder, { recursive: true });

    const store = join(tmp.path, 'store-plat');
    const inStore = (args: string[]) => berth(store, args, { env });
    const pulled = await inStore([
      'pull',
      '-q',
      '--platform',
      'linux/arm64',
      '--tls-verify=false',
      '--signature-policy',
      policyFor('plat', 'plat'),
      '--registries.d',
      regD,
      `${host}/plat:1`,
    ]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const kept = JSON.parse(readFileSync(join(store, 'signatures', `${pulled.stdout.trim()}.json`), 'utf8')) as {
      manifests: Record<string, { bytes: string }[]>;
    };
    assert.deepEqual(Object.keys(kept.manifests), [armDigest]);
    assert.deepEqual(Buffer.from(kept.manifests[armDigest]![0]!.bytes, 'base64'), armSignature);

    const pushed = await inStore(['push', '-q', '--tls-verify=false', '--registries.d', regD, `${host}/plat:1`, `${host}/plat-pushed:1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.deepEqual(readFileSync(join(lookasideFolder(dstSigs, 'plat-pushed', armDigest), 'signature-1')), armSignature);
    const accepted = await signing.skopeoPull(policyFor('plat-pushed', 'plat'), 'plat-pushed:1');
    assert.equal(accepted.code, 0, accepted.stderr);

    const copied = await inStore(['copy', '-q', '--dest-tls-verify=false', '--registries.d', regD, `berth:${host}/plat:1`, `docker://${host}/plat-copied:1`]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.deepEqual(readFileSync(join(lookasideFolder(dstSigs, 'plat-copied', armDigest), 'signature-1')), armSignature);

    const bare = await inStore(['push', '-q', '--tls-verify=false', '--remove-signatures', '--registries.d', regD, `${host}/plat:1`, `${host}/plat-bare:1`]);
    assert.equal(bare.code, 0, bare.stderr);
    const refused = await signing.skopeoPull(policyFor('plat-bare', 'plat'), 'plat-bare:1');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /signature/i);
  });
});
