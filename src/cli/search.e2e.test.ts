import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, busyboxRootfs, ok, tempDir } from '../testing/cli.js';
import { startRegistry, type Registry } from '../testing/registry.js';

/** `search` against the CNCF registry's catalog, beside what podman finds there. */
describe("search: a registry's catalog and tags", { timeout: 180_000 }, () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  let reg: Registry;
  const search = (...args: string[]) => berth(root, ['search', '--tls-verify=false', ...args]);

  before(async () => {
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    assert.equal((await berth(root, ['import', '-q', rootfs, 'bb'])).code, 0);
    reg = await startRegistry(join(tmp.path, 'registry'));
    for (const dest of ['team/app:1', 'team/app:2', 'team/web:1', 'other:1']) {
      const r = await berth(root, ['push', '-q', '--tls-verify=false', 'bb', `${reg.host}/${dest}`]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await reg?.stop();
    tmp.cleanup();
  });

  it('lists the repositories whose names hold the term, as podman does', async () => {
    const all = await search(`${reg.host}/`);
    assert.equal(all.code, 0, all.stderr);
    const podman = await ok('podman', ['search', '--tls-verify=false', `${reg.host}/`]);
    assert.equal(all.stdout, podman.stdout);
    const team = await search(`${reg.host}/team`);
    assert.deepEqual(
      team.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.trim()),
      [`${reg.host}/team/app`, `${reg.host}/team/web`],
    );
    assert.equal((await search('--limit', '1', '--format', '{{.Name}}', `${reg.host}/team`)).stdout, `${reg.host}/team/app\n`);
    const json = JSON.parse((await search('--format', 'json', `${reg.host}/other`)).stdout) as object[];
    assert.deepEqual(json, [{ Index: reg.host, Name: `${reg.host}/other`, Description: '', Stars: 0, Official: '', Automated: '', Tag: '' }]);
    const none = await search(`${reg.host}/nothing-like-it`);
    assert.deepEqual([none.code, none.stdout], [0, '']);
  });

  it("lists a repository's tags with --list-tags", async () => {
    const tags = await search('--list-tags', `${reg.host}/team/app`);
    assert.equal(tags.code, 0, tags.stderr);
    const podman = await ok('podman', ['search', '--tls-verify=false', '--list-tags', `${reg.host}/team/app`]);
    assert.equal(tags.stdout, podman.stdout);
    // In the registry's own order, as podman prints them.
    const listed = JSON.parse((await search('--list-tags', '--format', 'json', `${reg.host}/team/app`)).stdout) as { Name: string; Tags: string[] }[];
    assert.deepEqual(
      listed.map((l) => ({ ...l, Tags: [...l.Tags].sort() })),
      [{ Name: `${reg.host}/team/app`, Tags: ['1', '2'] }],
    );
    const missing = await search('--list-tags', `${reg.host}/nosuch`);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /^Error: .*nosuch/m);
    const bad = await search('--filter', 'color=red', `${reg.host}/team`);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid filter "color=red"/m);
  });
});
