import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { berth, busyboxRootfs, ok, podmanArgs, run, tempDir } from '../testing/cli.js';
import { startRegistry, type Registry } from '../testing/registry.js';

interface Index {
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; platform: Record<string, unknown>; annotations?: Record<string, string> }[];
}

/**
 * `manifest create/add/annotate/inspect/push/rm/exists` against the CNCF registry, the pushed list
 * read back by skopeo and pulled by podman.
 */
describe('manifest lists: made locally, pushed whole, read by skopeo and podman', { timeout: 300_000 }, () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  const b = (args: string[]) => berth(root, args);
  const bOk = async (args: string[]) => {
    const r = await b(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  let reg: Registry;
  let pushedDigest = '';

  before(async () => {
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    await bOk(['import', '-q', '--change', 'CMD ["/bin/sh"]', rootfs, 'bb']);
    // Only local: its manifest reaches the registry with the list.
    await bOk(['import', '-q', '--change', 'CMD ["/bin/true"]', rootfs, 'bb2']);
    reg = await startRegistry(join(tmp.path, 'registry'));
    const digestFile = join(tmp.path, 'bb.digest');
    await bOk(['push', '-q', '--tls-verify=false', '--digestfile', digestFile, 'bb', `${reg.host}/bb:1`]);
    pushedDigest = readFileSync(digestFile, 'utf8').trim();
  });
  after(async () => {
    await reg?.stop();
    await run('podman', [...podmanArgs(tmp.path), 'system', 'reset', '-f']);
    tmp.cleanup();
  });

  it('creates a list, adds a registry image and a local one, and prints the index as podman does', async () => {
    const id = (await bOk(['manifest', 'create', 'mylist'])).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    assert.equal((await b(['manifest', 'exists', 'mylist'])).code, 0);
    assert.equal((await bOk(['manifest', 'add', '--tls-verify=false', 'mylist', `docker://${reg.host}/bb:1`])).stdout.trim(), id);
    // The same image again, with another platform: podman replaces the entry rather than listing it twice.
    await bOk(['manifest', 'add', '--tls-verify=false', '--arch', 'arm64', '--variant', 'v8', '--annotation', 'team=blue', 'mylist', `${reg.host}/bb:1`]);
    await bOk(['manifest', 'add', 'mylist', 'containers-storage:bb2']);

    const printed = (await bOk(['manifest', 'inspect', 'mylist'])).stdout;
    assert.match(printed, /^\{\n {4}"schemaVersion": 2,\n/);
    const index = JSON.parse(printed) as Index;
    assert.equal(index.manifests.length, 2, printed);
    assert.equal(index.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    const remote = index.manifests.find((m) => m.digest === pushedDigest);
    assert.deepEqual(remote?.platform, { architecture: 'arm64', os: 'linux', variant: 'v8' });
    assert.deepEqual(remote?.annotations, { team: 'blue' });
    const local = JSON.parse((await bOk(['image', 'inspect', 'bb2'])).stdout) as { Digest: string }[];
    const localEntry = index.manifests.find((m) => m.digest === local[0]!.Digest);
    assert.ok(localEntry, `the local image's manifest ${local[0]!.Digest} is listed: ${printed}`);
    assert.equal(localEntry.platform['architecture'], process.arch === 'x64' ? 'amd64' : process.arch);

    await bOk(['manifest', 'annotate', '--os-version', '1.0', '--annotation', 'x=y', 'mylist', localEntry.digest]);
    const annotated = JSON.parse((await bOk(['manifest', 'inspect', 'mylist'])).stdout) as Index;
    const again = annotated.manifests.find((m) => m.digest === localEntry.digest)!;
    assert.equal(again.platform['os.version'], '1.0');
    assert.deepEqual(again.annotations, { x: 'y' });
  });

  it("pushes the list with its images: skopeo reads the same bytes, podman pulls this platform's image", async () => {
    const digestFile = join(tmp.path, 'list.digest');
    const dest = `${reg.host}/multi:1`;
    await bOk(['manifest', 'push', '--tls-verify=false', '--digestfile', digestFile, 'mylist', `docker://${dest}`]);
    const raw = (await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${dest}`])).stdout;
    assert.equal(digestOf(Buffer.from(raw)), readFileSync(digestFile, 'utf8').trim());
    assert.deepEqual(JSON.parse(raw), JSON.parse((await bOk(['manifest', 'inspect', 'mylist'])).stdout));
    // Every image the list names is in the destination repository.
    for (const m of (JSON.parse(raw) as Index).manifests) {
      const child = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/multi@${m.digest}`]);
      assert.equal(child.code, 0, child.stderr);
    }
    await ok('podman', [...podmanArgs(tmp.path), 'pull', '-q', '--tls-verify=false', dest]);
    const arch = (await ok('podman', [...podmanArgs(tmp.path), 'image', 'inspect', '--format', '{{.Architecture}}', dest])).stdout.trim();
    assert.equal(arch, process.arch === 'x64' ? 'amd64' : process.arch);
    // berth's own inspect of a name that is not a local list goes to the registry.
    assert.deepEqual(JSON.parse((await bOk(['manifest', 'inspect', '--tls-verify=false', dest])).stdout), JSON.parse(raw));
  });

  it('pushes as an OCI index with --format oci', async () => {
    await bOk(['manifest', 'push', '--tls-verify=false', '--format', 'oci', 'mylist', `${reg.host}/multi:oci`]);
    const raw = JSON.parse((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/multi:oci`])).stdout) as Index;
    assert.equal(raw.mediaType, 'application/vnd.oci.image.index.v1+json');
  });

  it('refuses what podman refuses, and rm removes the list but not the images in it', async () => {
    const taken = await b(['manifest', 'create', 'bb']);
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /^Error: image name "localhost\/bb:latest" is already associated with image "[a-f0-9]{64}"$/m);
    const unknown = await b(['manifest', 'add', 'nosuchlist', 'containers-storage:bb']);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /^Error: nosuchlist: image not known$/m);

    const rm = await bOk(['manifest', 'rm', 'mylist']);
    assert.match(rm.stdout, /^Untagged: localhost\/mylist:latest\nDeleted: [a-f0-9]{64}\n$/);
    assert.equal((await b(['manifest', 'exists', 'mylist'])).code, 1);
    assert.match((await bOk(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, /^localhost\/bb:latest$/m);
  });
});
