import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { berth, busyboxRootfs, ok, podmanArgs, run, tempDir } from '../testing/cli.js';
import { startRegistry, type Registry } from '../testing/registry.js';

/**
 * pull, push, login and logout against the CNCF distribution registry (apt's docker-registry):
 * plain HTTP, htpasswd Basic auth and TLS with a CA made here; interop with skopeo and podman.
 */

const ERROR_LINES = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('Error:'));

/** The layer blob digests of a store's first image record. */
function layerBlobs(store: string): string[] {
  const doc = JSON.parse(readFileSync(join(store, 'images.json'), 'utf8')) as { images: { layerBlobs: string[] }[] };
  return doc.images[0]!.layerBlobs;
}

describe('berth and a registry', { timeout: 600_000 }, () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  const podman = (args: string[]) => ok('podman', [...podmanArgs(tmp.path), ...args]);
  let id = '';
  let plain: Registry;

  before(async () => {
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    id = (await berth(root, ['import', '-q', '--change', 'CMD ["/bin/sh"]', rootfs, 'bb'])).stdout.trim();
    assert.match(id, /^sha256:/);
    plain = await startRegistry(join(tmp.path, 'plain'));
  });
  after(async () => {
    await plain?.stop();
    await run('podman', [...podmanArgs(tmp.path), 'system', 'reset', '-f']);
    tmp.cleanup();
  });

  it('berth push then berth pull into a fresh store gives the same image', async () => {
    const dest = `${plain.host}/berth/bb:1`;
    const push = await berth(root, ['push', '--digestfile', join(tmp.path, 'digest'), 'bb', dest]);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stderr, /Copying blob [0-9a-f]{12}\n/);
    assert.match(push.stderr, /Writing manifest to image destination/);
    const digest = readFileSync(join(tmp.path, 'digest'), 'utf8');
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const again = await berth(root, ['push', 'bb', dest]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /skipped: already exists/);

    const fresh = join(tmp.path, 'fresh');
    const pull = await berth(fresh, ['pull', dest]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pull.stdout, `${id.slice(7)}\n`);
    assert.match(pull.stderr, new RegExp(`Trying to pull ${dest}\\.\\.\\.`));
    const [info] = JSON.parse((await berth(fresh, ['inspect', dest])).stdout) as { Id: string; Digest: string }[];
    assert.equal(info!.Id, id.slice(7));
    assert.equal(info!.Digest, digest);
    const quiet = await berth(fresh, ['pull', '-q', dest]);
    assert.equal(quiet.stderr, '');
    assert.equal(quiet.stdout, `${id.slice(7)}\n`);
    // The pulled image is named in berth/bb on this registry: a push to another repository mounts its layer.
    const mounted = await berth(fresh, ['push', dest, `${plain.host}/berth/mounted:1`]);
    assert.equal(mounted.code, 0, mounted.stderr);
    assert.match(mounted.stderr, /Copying blob [0-9a-f]{12} skipped: already exists/);
    assert.doesNotMatch(mounted.stderr, /Copying blob [0-9a-f]{12}\n/);
  });

  it('inspect docker:// and list-tags answer as skopeo does, without pulling', async () => {
    for (const tag of ['1', '2']) assert.equal((await berth(root, ['push', '-q', 'bb', `${plain.host}/berth/remote:${tag}`])).code, 0);
    const ref = `docker://${plain.host}/berth/remote:1`;
    const fresh = join(tmp.path, 'remote-inspect');
    const mine = JSON.parse((await berth(fresh, ['inspect', ref])).stdout) as Record<string, unknown>;
    const theirs = JSON.parse((await ok('skopeo', ['inspect', '--tls-verify=false', ref])).stdout) as Record<string, unknown>;
    // Every field this skopeo prints (Debian's 1.9 has no LayersData yet; newer ones do, as berth).
    for (const key of Object.keys(theirs).filter((k) => k !== 'RepoTags')) assert.deepEqual(mine[key], theirs[key], key);
    // push gzips the layer the store holds uncompressed.
    assert.deepEqual(
      mine.LayersData,
      (mine.Layers as string[]).map((d) => ({
        MIMEType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        Digest: d,
        Size: (mine.LayersData as { Size: number }[])[0]!.Size,
        Annotations: null,
      })),
    );
    assert.deepEqual([...(mine.RepoTags as string[])].sort(), [...(theirs.RepoTags as string[])].sort());
    const raw = await berth(fresh, ['inspect', '--raw', ref]);
    assert.equal(raw.stdout, (await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', ref])).stdout);
    const config = JSON.parse((await berth(fresh, ['inspect', '--config', ref])).stdout) as unknown;
    assert.deepEqual(config, JSON.parse((await ok('skopeo', ['inspect', '--config', '--tls-verify=false', ref])).stdout));
    const tags = JSON.parse((await berth(fresh, ['list-tags', `docker://${plain.host}/berth/remote`])).stdout) as { Repository: string; Tags: string[] };
    const skopeoTags = JSON.parse((await ok('skopeo', ['list-tags', '--tls-verify=false', `docker://${plain.host}/berth/remote`])).stdout) as {
      Repository: string;
      Tags: string[];
    };
    assert.deepEqual(tags, skopeoTags);
    // Nothing was pulled.
    assert.ok(
      !existsSync(join(fresh, 'images.json')) || (JSON.parse(readFileSync(join(fresh, 'images.json'), 'utf8')) as { images: unknown[] }).images.length === 0,
    );
    const missing = await berth(fresh, ['inspect', `docker://${plain.host}/berth/absent:1`]);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /absent/);
    // delete by tag removes the manifest (and so every tag on it), as skopeo delete does.
    assert.equal((await berth(fresh, ['delete', ref])).code, 0);
    const gone = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ref]);
    assert.notEqual(gone.code, 0);
    assert.deepEqual((JSON.parse((await berth(fresh, ['list-tags', `docker://${plain.host}/berth/remote`])).stdout) as { Tags: string[] }).Tags, []);
    const again = await berth(fresh, ['delete', ref]);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /manifest unknown/);
  });

  it('copy moves an image between a registry, OCI layouts, archives and the store, digests kept', async () => {
    const reg = `docker://${plain.host}/berth/copy:1`;
    assert.equal((await berth(root, ['push', '-q', 'bb', reg.slice('docker://'.length)])).code, 0);
    const rawAtRegistry = (await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', reg])).stdout;
    const scratch = join(tmp.path, 'copy-store');
    const layout = join(tmp.path, 'layout');
    const copy = (...args: string[]) => berth(scratch, ['copy', '-q', '--tls-verify=false', ...args]);
    // registry -> OCI layout: the manifest bytes are the registry's (skopeo reads the layout).
    assert.equal((await copy(reg, `oci:${layout}:v1`)).code, 0);
    assert.equal((await ok('skopeo', ['inspect', '--raw', `oci:${layout}:v1`])).stdout, rawAtRegistry);
    // layout -> another repository, with --preserve-digests: the same digest arrives.
    const back = `docker://${plain.host}/berth/copied:1`;
    const digestFile = join(tmp.path, 'copied.digest');
    const pushed = await copy('--preserve-digests', '--digestfile', digestFile, `oci:${layout}:v1`, back);
    assert.equal(pushed.code, 0, pushed.stderr);
    const digestOf = async (r: string) => (JSON.parse((await ok('skopeo', ['inspect', '--tls-verify=false', r])).stdout) as { Digest: string }).Digest;
    assert.equal(await digestOf(back), await digestOf(reg));
    assert.equal(readFileSync(digestFile, 'utf8'), await digestOf(reg));
    // registry -> oci-archive -> the store, and the store -> docker-archive -> berth load: one image ID all along.
    const archive = join(tmp.path, 'copy.oci.tar');
    assert.equal((await copy(reg, `oci-archive:${archive}:v1`)).code, 0);
    assert.equal((await copy(`oci-archive:${archive}:v1`, 'berth:localhost/from-archive:1')).code, 0);
    const dockerArchive = join(tmp.path, 'copy.docker.tar');
    assert.equal((await copy('berth:localhost/from-archive:1', `docker-archive:${dockerArchive}:localhost/again:1`)).code, 0);
    const loaded = await berth(join(tmp.path, 'copy-load'), ['load', '-q', '-i', dockerArchive]);
    assert.equal(loaded.code, 0, loaded.stderr);
    const ids = JSON.parse((await berth(scratch, ['images', '--format', 'json'])).stdout) as { Id: string; Names: string[] }[];
    assert.equal(ids.find((i) => i.Names?.includes('localhost/from-archive:1'))?.Id, id.slice(7));
    // skopeo takes what berth wrote.
    await ok('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${plain.host}/berth/by-skopeo:1`]);
    // dir: as skopeo writes it: the same files, the same manifest bytes, each tool reading the other's.
    const ours = join(tmp.path, 'dir-berth');
    const theirs = join(tmp.path, 'dir-skopeo');
    assert.equal((await copy(reg, `dir:${ours}`)).code, 0);
    await ok('skopeo', ['copy', '-q', '--src-tls-verify=false', reg, `dir:${theirs}`]);
    assert.deepEqual(readdirSync(ours).sort(), readdirSync(theirs).sort());
    for (const f of readdirSync(theirs)) assert.ok(readFileSync(join(ours, f)).equals(readFileSync(join(theirs, f))), f);
    assert.equal((await ok('skopeo', ['inspect', '--raw', `dir:${ours}`])).stdout, rawAtRegistry);
    assert.equal((await copy(`dir:${theirs}`, 'berth:localhost/from-dir:1')).code, 0);
    const fromDir = JSON.parse((await berth(scratch, ['images', '--format', 'json'])).stdout) as { Id: string; Names: string[] }[];
    assert.equal(fromDir.find((i) => i.Names?.includes('localhost/from-dir:1'))?.Id, id.slice(7));
    // A directory that holds something else is not overwritten.
    const occupied = join(tmp.path, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'keep.txt'), 'mine');
    const refused = await copy(reg, `dir:${occupied}`);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /refusing to overwrite/);
    assert.deepEqual(readdirSync(occupied), ['keep.txt']);
  });

  it('sync copies every tag of a repository, or what a YAML file lists, to a registry or OCI layouts', async () => {
    for (const tag of ['a', 'b', 'c']) assert.equal((await berth(root, ['push', '-q', 'bb', `${plain.host}/src/synced:${tag}`])).code, 0);
    const scratch = join(tmp.path, 'sync-store');
    const all = await berth(scratch, [
      'sync',
      '--src',
      'docker',
      '--dest',
      'docker',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `${plain.host}/src/synced`,
      `${plain.host}/mirror`,
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stderr, /Synced 3 images/);
    const tags = JSON.parse((await ok('skopeo', ['list-tags', '--tls-verify=false', `docker://${plain.host}/mirror/synced`])).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags.sort(), ['a', 'b', 'c']);
    const yamlFile = join(tmp.path, 'sync.yml');
    writeFileSync(yamlFile, `${plain.host}:\n  tls-verify: false\n  images:\n    src/synced:\n      - a\n  images-by-tag-regex:\n    src/synced: ^[bc]$\n`);
    const layouts = join(tmp.path, 'layouts');
    const fromYaml = await berth(scratch, ['sync', '-q', '--src', 'yaml', '--dest', 'oci', yamlFile, layouts]);
    assert.equal(fromYaml.code, 0, fromYaml.stderr);
    const index = JSON.parse(readFileSync(join(layouts, 'synced', 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    assert.deepEqual(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']).sort(), ['a', 'b', 'c']);
    await ok('skopeo', ['inspect', `oci:${join(layouts, 'synced')}:b`]);
    // --dest dir: one skopeo dir: tree per image, named REPO:TAG as skopeo names them.
    const dirs = join(tmp.path, 'sync-dirs');
    const toDirs = await berth(scratch, ['sync', '-q', '--src', 'docker', '--dest', 'dir', '--src-tls-verify=false', `${plain.host}/src/synced`, dirs]);
    assert.equal(toDirs.code, 0, toDirs.stderr);
    assert.deepEqual(readdirSync(dirs).sort(), ['synced:a', 'synced:b', 'synced:c']);
    await ok('skopeo', ['inspect', `dir:${join(dirs, 'synced:c')}`]);
  });

  it('pushes as Docker schema 2 on request, and pulls every tag with --all-tags', async () => {
    const push = await berth(root, ['push', '--format', 'v2s2', 'bb', `${plain.host}/berth/tags:v2s2`]);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await berth(root, ['push', '-q', 'bb', `${plain.host}/berth/tags:oci`])).code, 0);
    const manifest = JSON.parse((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${plain.host}/berth/tags:v2s2`])).stdout) as {
      mediaType: string;
    };
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    const fresh = join(tmp.path, 'alltags');
    const pull = await berth(fresh, ['pull', '-q', '--all-tags', `${plain.host}/berth/tags`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pull.stdout, `${id.slice(7)}\n`);
    const names = (await berth(fresh, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(names, [`${plain.host}/berth/tags:oci`, `${plain.host}/berth/tags:v2s2`]);
  });

  it('pulls an image skopeo pushed, with the same digests', async () => {
    const layout = join(tmp.path, 'layout');
    assert.equal((await berth(root, ['save', '--format', 'oci-dir', '-o', layout, 'bb'])).code, 0);
    const ref = `${plain.host}/skopeo/bb:latest`;
    await ok('skopeo', ['copy', '--dest-tls-verify=false', '--format', 'v2s2', `oci:${layout}:localhost/bb:latest`, `docker://${ref}`]);
    const inspect = JSON.parse((await ok('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout) as { Digest: string; Layers: string[] };
    const fresh = join(tmp.path, 'from-skopeo');
    const pull = await berth(fresh, ['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    const [info] = JSON.parse((await berth(fresh, ['inspect', ref])).stdout) as { Id: string; Digest: string }[];
    assert.equal(info!.Digest, inspect.Digest);
    assert.equal(info!.Id, id.slice(7));
    assert.deepEqual(layerBlobs(fresh), inspect.Layers);
  });

  it('an image berth pushes is pulled by podman with the same ID', async () => {
    const ref = `${plain.host}/berth/for-podman:1`;
    assert.equal((await berth(root, ['push', '-q', 'bb', ref])).code, 0);
    await podman(['pull', '--tls-verify=false', ref]);
    const podmanId = (await podman(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    assert.equal(`sha256:${podmanId}`, id);
  });

  it('refuses a blob tampered with in the registry, storing nothing', async () => {
    const ref = `${plain.host}/berth/tampered:1`;
    const other = join(tmp.path, 'tamper-src');
    const rootfs = join(tmp.path, 'tamper.tar');
    mkdirSync(join(tmp.path, 'tamper-files'));
    writeFileSync(join(tmp.path, 'tamper-files', 'file'), `only this image has this layer ${Date.now()}\n`);
    await ok('tar', ['-C', join(tmp.path, 'tamper-files'), '-cf', rootfs, 'file']);
    assert.equal((await berth(other, ['import', '-q', rootfs, 'tamper'])).code, 0);
    assert.equal((await berth(other, ['push', '-q', 'tamper', ref])).code, 0);
    // The pushed layer: the gzip of the one the store holds.
    const layerDigest = (JSON.parse((await ok('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout) as { Layers: string[] }).Layers[0]!;
    const hex = layerDigest.slice(7);
    const data = join(plain.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    assert.ok(existsSync(data), data);
    const bytes = readFileSync(data);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(data, bytes);
    const fresh = join(tmp.path, 'tamper-dst');
    const pull = await berth(fresh, ['pull', ref]);
    assert.equal(pull.code, 125, pull.stderr);
    assert.equal(ERROR_LINES(pull.stderr).length, 1, pull.stderr);
    assert.match(pull.stderr, /does not match its digest/);
    assert.equal((await berth(fresh, ['images', '-q'])).stdout, '');
    const blobs = join(fresh, 'blobs', 'sha256');
    assert.deepEqual(existsSync(blobs) ? readdirSync(blobs) : [], []);
  });

  describe('with htpasswd authentication', () => {
    let secured: Registry;
    const authfile = join(tmp.path, 'auth.json');
    before(async () => {
      const htpasswd = join(tmp.path, 'htpasswd');
      writeFileSync(htpasswd, `alice:${bcrypt.hashSync('s3cret', 10)}\n`);
      secured = await startRegistry(join(tmp.path, 'secured'), { htpasswd });
    });
    after(() => secured?.stop());

    it('a wrong password gives one clear line and exit 125', async () => {
      const r = await berth(root, ['login', '--authfile', authfile, '-u', 'alice', '-p', 'wrong', secured.host]);
      assert.equal(r.code, 125);
      assert.deepEqual(ERROR_LINES(r.stderr), [`Error: logging into "${secured.host}": invalid username/password`]);
      assert.equal(existsSync(authfile), false);
    });

    it('login stores working credentials; push and pull use them; logout removes them', async () => {
      const login = await berth(root, ['login', '--authfile', authfile, '-u', 'alice', '--password-stdin', secured.host], { input: 's3cret\n' });
      assert.equal(login.code, 0, login.stderr);
      assert.equal(login.stdout, 'Login Succeeded!\n');
      assert.equal((await berth(root, ['login', '--authfile', authfile, '--get-login', secured.host])).stdout, 'alice\n');
      const ref = `${secured.host}/private/bb:1`;
      const push = await berth(root, ['push', '-q', '--authfile', authfile, 'bb', ref]);
      assert.equal(push.code, 0, push.stderr);

      const anon = await berth(join(tmp.path, 'anon'), ['pull', '--authfile', join(tmp.path, 'none.json'), ref]);
      assert.equal(anon.code, 125);
      assert.equal(ERROR_LINES(anon.stderr).length, 1, anon.stderr);
      assert.match(anon.stderr, /unauthorized/i);
      const withCreds = await berth(join(tmp.path, 'creds'), ['pull', '-q', '--authfile', join(tmp.path, 'none.json'), '--creds', 'alice:s3cret', ref]);
      assert.equal(withCreds.stdout, `${id.slice(7)}\n`, withCreds.stderr);
      const pull = await berth(join(tmp.path, 'authed'), ['pull', '-q', '--authfile', authfile, ref]);
      assert.equal(pull.stdout, `${id.slice(7)}\n`, pull.stderr);

      const logout = await berth(root, ['logout', '--authfile', authfile, secured.host]);
      assert.equal(logout.stdout, `Removed login credentials for ${secured.host}\n`, logout.stderr);
      const again = await berth(root, ['logout', '--authfile', authfile, secured.host]);
      assert.equal(again.code, 125);
      assert.deepEqual(ERROR_LINES(again.stderr), [`Error: not logged into ${secured.host}`]);
    });
  });

  describe('over TLS with a private CA', () => {
    let tls: Registry;
    const certs = join(tmp.path, 'certs');
    before(async () => {
      mkdirSync(certs, { recursive: true });
      const o = (args: string[]) => ok('openssl', args, { cwd: certs });
      await o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=berth test CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
      await o(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
      writeFileSync(join(certs, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      await o([
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        'ext.cnf',
        '-out',
        'server.crt',
      ]);
      mkdirSync(join(certs, 'client'));
      writeFileSync(join(certs, 'client', 'ca.crt'), readFileSync(join(certs, 'ca.crt')));
      tls = await startRegistry(join(tmp.path, 'tls'), { tls: { cert: join(certs, 'server.crt'), key: join(certs, 'server.key') } });
    });
    after(() => tls?.stop());

    it('trusts the registry with --cert-dir, refuses it without, and skips checks with --tls-verify=false', async () => {
      const ref = `${tls.host}/secure/bb:1`;
      const refused = await berth(root, ['push', '-q', 'bb', ref]);
      assert.equal(refused.code, 125);
      assert.equal(ERROR_LINES(refused.stderr).length, 1, refused.stderr);
      assert.match(refused.stderr, /certificate/i);
      const push = await berth(root, ['push', '-q', '--cert-dir', join(certs, 'client'), 'bb', ref]);
      assert.equal(push.code, 0, push.stderr);
      const pull = await berth(join(tmp.path, 'tls-pull'), ['pull', '-q', '--tls-verify=false', ref]);
      assert.equal(pull.stdout, `${id.slice(7)}\n`, pull.stderr);
    });
  });
});
