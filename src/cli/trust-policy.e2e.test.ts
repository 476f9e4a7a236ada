/**
 * The trust policy where images enter berth (issue 17): pull, run of a missing image, build FROM,
 * under a `signedBy` policy with GPG signatures in a file:// lookaside, against the CNCF
 * distribution registry on 127.0.0.1. Signed by berth and by skopeo; refused for no signature,
 * another key, another identity, a tampered signature and a `reject` scope, each in one line and
 * with nothing stored.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { berth, tempDir } from '../testing/cli.js';
import { type GpgKey, gpgSigning } from '../testing/gpg-signing.js';

describe('trust policy on pull, run and build', { timeout: 600_000 }, () => {
  const tmp = tempDir('berth-trust-e2e-');
  const source = join(tmp.path, 'source-store');
  const signing = gpgSigning(tmp.path);
  const { env, regD } = signing;
  const sigs = join(tmp.path, 'sigs');
  let host = '';
  const keys: Record<'mine' | 'other', GpgKey> = { mine: { fpr: '', pubKey: '' }, other: { fpr: '', pubKey: '' } };
  let policy = '';
  /** A store of its own per check, so "nothing stored" is its image list staying empty. */
  let stores = 0;
  const freshStore = () => join(tmp.path, `store-${++stores}`);
  const trusted = (store: string, args: string[]) =>
    berth(store, [...args.slice(0, 1), '--signature-policy', policy, '--registries.d', regD, ...args.slice(1)], { env });
  const imagesIn = async (store: string) => (await berth(store, ['images', '-q'])).stdout.trim();
  const sign = async (key: string, name: string) => {
    const pushed = await berth(source, ['push', '-q', '--tls-verify=false', '--sign-by', key, '--registries.d', regD, 'bb', `${host}/${name}`], { env });
    assert.equal(pushed.code, 0, pushed.stderr);
  };
  /** The lookaside folder of `repo`'s one signed manifest. */
  const sigFolder = (repo: string) => {
    const found = readdirSync(sigs).find((d) => d.startsWith(`${repo}@`));
    assert.ok(found, `a signature folder for ${repo}`);
    return join(sigs, found);
  };

  before(async () => {
    host = await signing.start();
    for (const who of ['mine', 'other'] as const) keys[who] = await signing.key(who);
    writeFileSync(join(regD, 'default.yaml'), `default-docker:\n  lookaside: ${pathToFileURL(sigs).href}\n`);
    policy = join(tmp.path, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        default: [{ type: 'insecureAcceptAnything' }],
        transports: {
          docker: {
            [host]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: keys.mine.pubKey }],
            [`${host}/blocked`]: [{ type: 'reject' }],
          },
        },
      }),
    );
    await signing.importBusybox(source);
    await sign(keys.mine.fpr, 'signed:1');
    await sign(keys.other.fpr, 'by-other:1');
    assert.equal((await berth(source, ['push', '-q', '--tls-verify=false', 'bb', `${host}/unsigned:1`])).code, 0);
  });
  after(async () => {
    await signing.stop();
    tmp.cleanup();
  });

  it('pulls, runs and builds FROM an image signed by the policy’s key', async () => {
    const store = freshStore();
    const pulled = await trusted(store, ['pull', '-q', '--tls-verify=false', `${host}/signed:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const ran = await trusted(freshStore(), ['run', '--rm', '--tls-verify=false', '--network', 'none', `${host}/signed:1`, 'echo', 'trusted']);
    assert.equal(ran.stdout, 'trusted\n', ran.stderr);
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Containerfile'), `FROM ${host}/signed:1\nRUN echo built > /built\n`);
    const built = await trusted(freshStore(), ['build', '-q', '--tls-verify=false', ctx]);
    assert.equal(built.code, 0, built.stderr);
  });

  it('an image skopeo signed pulls under the same policy', async () => {
    const dir = join(tmp.path, 'skopeo-src');
    assert.equal((await berth(source, ['copy', 'berth:bb', `dir:${dir}`])).code, 0);
    const copied = await signing.skopeo(['copy', '--dest-tls-verify=false', '--sign-by', keys.mine.fpr, `dir:${dir}`, `docker://${host}/by-skopeo:1`]);
    assert.equal(copied.code, 0, copied.stderr);
    const pulled = await trusted(freshStore(), ['pull', '-q', '--tls-verify=false', `${host}/by-skopeo:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
  });

  it('refuses, in one line and storing nothing: no signature, another key, another identity, a tampered signature', async () => {
    // The signature of signed:1, copied beside an image that is the same manifest under another name.
    assert.equal((await berth(source, ['push', '-q', '--tls-verify=false', 'bb', `${host}/renamed:1`])).code, 0);
    const renamedDir = join(sigs, `renamed@${sigFolder('signed').split('@')[1]}`);
    mkdirSync(renamedDir, { recursive: true });
    copyFileSync(join(sigFolder('signed'), 'signature-1'), join(renamedDir, 'signature-1'));
    // And a tampered copy of it for another name.
    assert.equal((await berth(source, ['push', '-q', '--tls-verify=false', 'bb', `${host}/tampered:1`])).code, 0);
    const tamperedDir = join(sigs, `tampered@${sigFolder('signed').split('@')[1]}`);
    mkdirSync(tamperedDir, { recursive: true });
    const bytes = readFileSync(join(sigFolder('signed'), 'signature-1'));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 8) ^ 0xff, bytes.length - 8);
    writeFileSync(join(tamperedDir, 'signature-1'), bytes);
    const cases: [string, RegExp][] = [
      ['unsigned:1', /no signature|signature.*required|not signed/i],
      ['by-other:1', /unknown key/],
      ['renamed:1', /identity|does not match|not accepted/i],
      // A byte flipped in gpg's (compressed) message leaves no readable signature in it.
      ['tampered:1', /invalid signature|not signed|no signature in the message/],
    ];
    for (const [name, why] of cases) {
      const store = freshStore();
      const r = await trusted(store, ['pull', '-q', '--tls-verify=false', `${host}/${name}`]);
      assert.equal(r.code, 125, `${name}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`^Error: Source image rejected: docker://${host.replace(/\./g, '\\.')}/${name.replace(':', ':')}`));
      assert.match(lines[0]!, why, name);
      assert.match(lines[0]!, /signedBy for transports\.docker/);
      assert.equal(await imagesIn(store), '', `${name}: nothing stored`);
    }
  });

  it('copy checks its source against --policy: a signed one copies, an unsigned one is refused with nothing written', async () => {
    const out = join(tmp.path, 'copied');
    const policyFlags = ['--policy', policy, '--registries.d', regD, '--src-tls-verify=false'];
    // An OCI layout holds no signatures: the signed image goes there without them, as skopeo's.
    const good = await berth(freshStore(), ['copy', '-q', ...policyFlags, '--remove-signatures', `docker://${host}/signed:1`, `oci:${out}:signed`], { env });
    assert.equal(good.code, 0, good.stderr);
    const bad = await berth(freshStore(), ['copy', '-q', ...policyFlags, `docker://${host}/unsigned:1`, `oci:${out}-bad:unsigned`], { env });
    assert.equal(bad.code, 125, bad.stderr);
    assert.match(bad.stderr.trim(), /^Error: Source image rejected: docker:\/\/.*unsigned:1: /);
    assert.equal(existsSync(`${out}-bad`), false, 'nothing written');
  });

  it('sync checks each source image, and load an archive by its path', async () => {
    const out = join(tmp.path, 'synced');
    const policyFlags = ['--policy', policy, '--registries.d', regD, '--src-tls-verify=false'];
    const good = await berth(freshStore(), ['sync', '-q', ...policyFlags, '--remove-signatures', '--src', 'docker', '--dest', 'oci', `${host}/signed:1`, out], {
      env,
    });
    assert.equal(good.code, 0, good.stderr);
    const bad = await berth(freshStore(), ['sync', '-q', ...policyFlags, '--src', 'docker', '--dest', 'oci', `${host}/unsigned:1`, `${out}-bad`], { env });
    assert.equal(bad.code, 125, bad.stderr);
    assert.match(bad.stderr, /Error: Source image rejected: docker:\/\/.*unsigned:1: /);
    // load reads the user's or the system's policy: one in a HOME of its own rejects docker-archives under this folder.
    const archive = join(tmp.path, 'archives', 'bb.tar');
    mkdirSync(join(tmp.path, 'archives'), { recursive: true });
    assert.equal((await berth(source, ['save', '-o', archive, 'bb'])).code, 0);
    const home = join(tmp.path, 'home');
    mkdirSync(join(home, '.config', 'containers'), { recursive: true });
    writeFileSync(
      join(home, '.config', 'containers', 'policy.json'),
      JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }], transports: { 'docker-archive': { '': [{ type: 'reject' }] } } }),
    );
    const store = freshStore();
    const refused = await berth(store, ['load', '-q', '-i', archive], { env: { HOME: home } });
    assert.equal(refused.code, 125, refused.stderr);
    assert.match(
      refused.stderr.trim(),
      /^Error: Source image rejected: .*: rejected by the policy \(reject for transports(\.docker-archive|\["docker-archive"\])\[""\]/,
    );
    assert.equal(await imagesIn(store), '');
    assert.equal((await berth(freshStore(), ['load', '-q', '-i', archive])).code, 0, 'loads under the system policy');
  });

  it('image verify reports the signatures found and the policy’s decision, with its exit code', async () => {
    const store = freshStore();
    const verify = (args: string[]) =>
      berth(store, ['image', 'verify', '--signature-policy', policy, '--registries.d', regD, '--tls-verify=false', ...args], { env });
    const signed = await verify(['--format', 'json', `${host}/signed:1`]);
    assert.equal(signed.code, 0, signed.stderr);
    const report = JSON.parse(signed.stdout) as {
      signatures: { kind: string; verified: boolean; claim?: { dockerReference: string } }[];
      policy: { accepted: boolean };
    };
    assert.equal(report.policy.accepted, true);
    assert.deepEqual(
      report.signatures.map((x) => [x.kind, x.verified, x.claim?.dockerReference]),
      [['simple-signing', true, `${host}/signed:1`]],
    );
    const other = await verify([`${host}/by-other:1`]);
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stdout, /^Signatures: 1$/m);
    assert.match(other.stdout, /1\. simple-signing: not verified: .*unknown key/);
    assert.match(other.stdout, /^Policy: rejected: /m);
    assert.equal(await imagesIn(store), '', 'nothing pulled');
  });

  it('a scope the policy rejects stops run before any request is made', async () => {
    // Nothing listens on port 1: a request would fail with a connection error, not the policy's line.
    const store = freshStore();
    writeFileSync(
      policy,
      JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }], transports: { docker: { '127.0.0.1:1/blocked': [{ type: 'reject' }] } } }),
    );
    const r = await trusted(store, ['run', '--rm', '--tls-verify=false', '127.0.0.1:1/blocked/busybox:1', 'true']);
    assert.equal(r.code, 125, r.stderr);
    // run's own line before the pull ("Resolving …"), then the policy's.
    assert.match(
      r.stderr.trim().split('\n').at(-1)!,
      /^Error: Source image rejected: docker:\/\/127\.0\.0\.1:1\/blocked\/busybox:1: rejected by the policy \(reject for transports\.docker\["127\.0\.0\.1:1\/blocked"\]/,
    );
    assert.equal(await imagesIn(store), '');
  });
});
