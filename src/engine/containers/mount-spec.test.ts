import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseContainerMounts, parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from './mount-spec.js';

const opts = { cwd: '/home/u', anonymousName: () => 'anon1' };

describe('mount flags', () => {
  test('-v: bind mounts, named volumes, anonymous volumes, options', () => {
    assert.deepEqual(parseVolumeFlag('/srv/data:/data:ro,z', opts), { type: 'bind', source: '/srv/data', destination: '/data', options: ['ro'] });
    // U (the source given to the container's user) is kept for the start to carry out; Z is SELinux's.
    assert.deepEqual(parseVolumeFlag('/srv/data:/data:U,Z', opts), { type: 'bind', source: '/srv/data', destination: '/data', options: ['U'] });
    assert.deepEqual(parseVolumeFlag('./rel:/data', opts), { type: 'bind', source: '/home/u/rel', destination: '/data', options: [] });
    assert.deepEqual(parseVolumeFlag('cache:/var/cache/', opts), {
      type: 'volume',
      name: 'cache',
      anonymous: false,
      destination: '/var/cache',
      options: [],
      noCopy: false,
    });
    assert.deepEqual(parseVolumeFlag('cache:/c:nocopy,rshared', opts), {
      type: 'volume',
      name: 'cache',
      anonymous: false,
      destination: '/c',
      options: ['rshared'],
      noCopy: true,
    });
    assert.deepEqual(parseVolumeFlag('/scratch', opts), {
      type: 'volume',
      name: 'anon1',
      anonymous: true,
      destination: '/scratch',
      options: [],
      noCopy: false,
    });
    assert.throws(() => parseVolumeFlag('data:rel', opts), /container path "rel" must be absolute/);
    assert.throws(() => parseVolumeFlag('/a:/b:bogus', opts), /unknown option "bogus"/);
    assert.throws(() => parseVolumeFlag('/a:/b:ro,rw', opts), /ro and rw both given/);
    assert.throws(() => parseVolumeFlag('bad name:/b', opts), /invalid volume name "bad name"/);
    assert.throws(() => parseVolumeFlag('a:b:c:d', opts), /expected \[SOURCE:\]CONTAINER-DIR/);
  });

  test("--mount: bind, volume and tmpfs with docker's keys", () => {
    assert.deepEqual(parseMountFlag('type=bind,source=/etc,target=/host-etc,readonly', opts), {
      type: 'bind',
      source: '/etc',
      destination: '/host-etc',
      options: ['ro'],
    });
    assert.deepEqual(parseMountFlag('type=bind,src=/etc,dst=/e,bind-propagation=rslave', opts), {
      type: 'bind',
      source: '/etc',
      destination: '/e',
      options: ['rslave'],
    });
    assert.deepEqual(parseMountFlag('type=volume,source=v1,destination=/v,volume-nocopy', opts), {
      type: 'volume',
      name: 'v1',
      anonymous: false,
      destination: '/v',
      options: [],
      noCopy: true,
    });
    assert.deepEqual(parseMountFlag('type=volume,dst=/anon', opts), {
      type: 'volume',
      name: 'anon1',
      anonymous: true,
      destination: '/anon',
      options: [],
      noCopy: false,
    });
    assert.deepEqual(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777', opts), {
      type: 'tmpfs',
      destination: '/t',
      options: ['rw', 'noexec', 'nosuid', 'nodev', 'size=1048576', 'mode=1777'],
    });
    // An image's root: read-only unless rw=true; the image is found at create.
    assert.deepEqual(parseMountFlag('type=image,src=busybox,dst=/im', opts), {
      type: 'image',
      source: 'busybox',
      imageId: '',
      destination: '/im',
      options: ['ro'],
      readWrite: false,
    });
    assert.deepEqual(parseMountFlag('type=image,source=busybox,target=/im,rw=true', opts), {
      type: 'image',
      source: 'busybox',
      imageId: '',
      destination: '/im',
      options: [],
      readWrite: true,
    });
    assert.throws(() => parseMountFlag('type=image,dst=/im', opts), /an image mount needs source=/);
    assert.throws(() => parseMountFlag('type=bind,target=/x', opts), /a bind mount needs source=/);
    assert.throws(() => parseMountFlag('type=nfs,target=/x', opts), /type "nfs" is not supported/);
    assert.throws(() => parseMountFlag('type=bind,src=/a,dst=/x,colour=red', opts), /unknown option "colour"/);
    assert.throws(() => parseMountFlag('type=volume,source=v', opts), /destination is required/);
    assert.throws(() => parseMountFlag('type=tmpfs,dst=/t,tmpfs-mode=999', opts), /tmpfs-mode "999" is not octal/);
  });

  test('--tmpfs and duplicate destinations', () => {
    assert.deepEqual(parseTmpfsFlag('/run:size=1m,exec'), {
      type: 'tmpfs',
      destination: '/run',
      options: ['rw', 'noexec', 'nosuid', 'nodev', 'size=1m', 'exec'],
    });
    assert.throws(() => parseContainerMounts({ volumes: ['/a:/x'], mounts: [], tmpfs: ['/x'] }, opts), /\/x: duplicate mount destination/);
    assert.throws(() => parseContainerMounts({ volumes: ['/a:/x', '/b:/x'], mounts: [], tmpfs: [] }, opts), /\/x: duplicate mount destination/);
    // The very same mount twice is one, as podman takes it.
    assert.equal(parseContainerMounts({ volumes: ['/a:/x', '/a:/x'], mounts: [], tmpfs: [] }, opts).length, 1);
  });

  test('no mount over the root itself, however the path is spelled', { timeout: 5_000 }, () => {
    for (const spec of ['/srv:/', '/srv:/..', '/srv:/a/..', '/..'])
      assert.throws(() => parseVolumeFlag(spec, opts), { message: `invalid volume "${spec}": destination can't be '/'` });
    assert.throws(() => parseMountFlag('type=bind,src=/srv,dst=/a/../', opts), /destination can't be '\/'/);
    assert.throws(() => parseTmpfsFlag('/x/..'), /destination can't be '\/'/);
    assert.equal(parseVolumeFlag('/srv:/a/../b', opts).destination, '/b');
  });
});
