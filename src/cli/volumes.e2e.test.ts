import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

const NONE = ['--network', 'none'];

describe('volumes and mounts', () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('a named volume is made on first use, copied up from the image, and outlives rm', async () => {
    await env.ok(['run', '--name', 'writer', ...NONE, '-v', 'etcvol:/etc', 'busybox', 'sh', '-c', 'echo kept > /etc/note']);
    const inspect = JSON.parse((await env.ok(['volume', 'inspect', 'etcvol'])).stdout) as {
      Name: string;
      Mountpoint: string;
      UsedBy: string[];
      NeedsCopyUp: boolean;
    }[];
    assert.equal(inspect[0]!.Name, 'etcvol');
    assert.equal(inspect[0]!.NeedsCopyUp, false);
    // The image's /etc came along (docker's copy-up), and the container's write landed in the volume.
    assert.match(readFileSync(join(inspect[0]!.Mountpoint, 'passwd'), 'utf8'), /^root:/);
    assert.equal(readFileSync(join(inspect[0]!.Mountpoint, 'note'), 'utf8'), 'kept\n');
    assert.equal(inspect[0]!.UsedBy.length, 1);
    const busy = await env.berth(['volume', 'rm', 'etcvol']);
    assert.equal(busy.code, 2, 'podman volume rm exits 2 for a volume in use');
    assert.match(busy.stderr, /volume etcvol is being used by the following container\(s\)/);
    await env.ok(['rm', 'writer']);
    // A second container sees what the first wrote; the copy-up is not done again over it.
    const again = await env.ok(['run', '--rm', ...NONE, '-v', 'etcvol:/etc', 'busybox', 'cat', '/etc/note']);
    assert.equal(again.stdout, 'kept\n');
    assert.deepEqual((await env.ok(['volume', 'ls', '-q'])).stdout, 'etcvol\n');
  });

  it('volume create, ls with filters and formats, exists, rm, prune', async () => {
    assert.equal((await env.ok(['volume', 'create', '--label', 'team=a', 'v1'])).stdout, 'v1\n');
    await env.ok(['volume', 'create', 'v2']);
    const dup = await env.berth(['volume', 'create', 'v1']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /volume with name v1 already exists/);
    await env.ok(['volume', 'create', '--ignore', 'v1']);
    assert.equal((await env.ok(['volume', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}'])).stdout, 'v1\n');
    const table = (await env.ok(['volume', 'ls'])).stdout.split('\n');
    assert.match(table[0]!, /^DRIVER\s+VOLUME NAME$/);
    assert.ok(table.some((l) => /^local\s+v2$/.test(l)));
    const json = JSON.parse((await env.ok(['volume', 'ls', '--format', 'json'])).stdout) as { Name: string; Driver: string; Labels: Record<string, string> }[];
    assert.deepEqual(json.find((v) => v.Name === 'v1')?.Labels, { team: 'a' });
    assert.equal((await env.berth(['volume', 'exists', 'v2'])).code, 0);
    assert.equal((await env.berth(['volume', 'exists', 'nope'])).code, 1);
    const missing = await env.berth(['volume', 'rm', 'nope']);
    assert.equal(missing.code, 1, 'podman volume rm exits 1 for a missing volume');
    assert.match(missing.stderr, /no volume with name "nope" found/);
    assert.equal((await env.ok(['volume', 'rm', 'v2'])).stdout, 'v2\n');
    const pruned = (await env.ok(['volume', 'prune', '-f'])).stdout.split('\n').filter(Boolean);
    assert.ok(pruned.includes('v1'));
    assert.ok(!existsSync(join(env.root, 'volumes', 'v1')));
    const bad = await env.berth(['volume', 'create', '../escape']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid volume name/);
  });

  it('bind mounts a host directory, read-only with :ro; a missing source is a clear error', async () => {
    const host = join(env.dir, 'hostdir');
    mkdirSync(host);
    writeFileSync(join(host, 'in.txt'), 'from host\n');
    const rw = await env.ok(['run', '--rm', ...NONE, '-v', `${host}:/mnt/h`, 'busybox', 'sh', '-c', 'cat /mnt/h/in.txt; echo back > /mnt/h/out.txt']);
    assert.equal(rw.stdout, 'from host\n');
    assert.equal(readFileSync(join(host, 'out.txt'), 'utf8'), 'back\n');
    const ro = await env.berth(['run', '--rm', ...NONE, '--mount', `type=bind,source=${host},target=/mnt/h,readonly`, 'busybox', 'touch', '/mnt/h/x']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    const gone = await env.berth(['run', '--rm', ...NONE, '-v', `${join(env.dir, 'absent')}:/x`, 'busybox', 'true']);
    assert.equal(gone.code, 125);
    assert.match(gone.stderr, /bind mount source .*absent .*does not exist/);
  });

  it('--tmpfs and --mount type=tmpfs give writable tmpfs mounts', async () => {
    const r = await env.ok([
      'run',
      '--rm',
      ...NONE,
      '--read-only',
      '--tmpfs',
      '/scratch:size=1m',
      '--mount',
      'type=tmpfs,dst=/other',
      'busybox',
      'sh',
      '-c',
      'echo a > /scratch/f && echo b > /other/f && grep -E " /(scratch|other) " /proc/mounts',
    ]);
    assert.match(r.stdout, /tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec.*size=1024k/);
    assert.match(r.stdout, /tmpfs \/other tmpfs /);
  });

  it('an image VOLUME gets an anonymous volume, copied up, which rm -v removes', async () => {
    await env.ok(['run', '--name', 'seed', ...NONE, 'busybox', 'sh', '-c', 'mkdir /data && echo seeded > /data/file']);
    await env.ok(['commit', '-q', '--change', 'VOLUME /data', 'seed', 'withvol']);
    await env.ok(['rm', 'seed']);
    await env.ok(['run', '--name', 'user', ...NONE, 'withvol', 'sh', '-c', 'cat /data/file; echo more >> /data/file']);
    const mounts = JSON.parse((await env.ok(['container', 'inspect', '--format', '{{json .Mounts}}', 'user'])).stdout) as {
      Type: string;
      Name: string;
      Destination: string;
      Source: string;
    }[];
    const vol = mounts.find((m) => m.Destination === '/data');
    assert.equal(vol?.Type, 'volume');
    assert.equal(readFileSync(join(vol!.Source, 'file'), 'utf8'), 'seeded\nmore\n');
    assert.equal((await env.berth(['volume', 'exists', vol!.Name])).code, 0);
    await env.ok(['rm', '-v', 'user']);
    assert.equal((await env.berth(['volume', 'exists', vol!.Name])).code, 1);
    // With --rm the anonymous volume goes with the container, as in docker.
    await env.ok(['run', '--rm', ...NONE, 'withvol', 'true']);
    assert.equal((await env.ok(['volume', 'ls', '-q', '--filter', 'anonymous=true'])).stdout, '');
  });

  it('berth inspect finds a container, then an image, then a volume; --type narrows it', async () => {
    await env.ok(['create', '--name', 'looked-up', ...NONE, '-v', 'seen:/s', 'busybox', 'true']);
    const all = JSON.parse((await env.ok(['inspect', 'looked-up', 'busybox', 'seen'])).stdout) as Record<string, unknown>[];
    assert.equal(all.length, 3);
    assert.equal((all[0]!.Config as { Hostname: string }).Hostname.length, 12, 'a container');
    assert.ok(Array.isArray(all[1]!.RepoTags), 'an image');
    assert.equal(all[2]!.Mountpoint, join(env.root, 'volumes', 'seen', '_data'));
    const missing = await env.berth(['inspect', '--type', 'image', 'looked-up']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /^Error: looked-up: image not known\n/);
    await env.ok(['rm', 'looked-up']);
  });

  it('volume rm -f removes the containers that use it', async () => {
    await env.ok(['create', '--name', 'holder', ...NONE, '-v', 'held:/h', 'busybox', 'true']);
    assert.equal((await env.ok(['volume', 'rm', '-f', 'held'])).stdout, 'held\n');
    assert.equal((await env.berth(['container', 'exists', 'holder'])).code, 1);
  });
});
