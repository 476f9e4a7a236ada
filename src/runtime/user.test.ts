import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveUser, withHome } from './user.js';

const files: Record<string, string> = {
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n# comment\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n',
  '/etc/group': 'root:x:0:\nwheel:x:10:app,other\naudio:x:29:app\nnogroup:x:65534:\napp:x:1000:\n',
};
const read = async (p: string) => {
  const text = files[p];
  if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
  return text;
};
const empty = async (): Promise<string> => {
  throw Object.assign(new Error('missing'), { code: 'ENOENT' });
};

describe('resolveUser', () => {
  test('names and numbers, with the supplementary groups of /etc/group', async () => {
    assert.deepEqual(await resolveUser(read, ''), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
    assert.deepEqual(await resolveUser(read, 'app'), { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' });
    assert.deepEqual(await resolveUser(read, '1000'), { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' });
    assert.deepEqual(await resolveUser(read, 'nobody:wheel'), { uid: 65534, gid: 10, additionalGids: [], home: '/nonexistent' });
    assert.deepEqual(await resolveUser(read, 'app:0'), { uid: 1000, gid: 0, additionalGids: [], home: '/home/app' });
  });

  test('a UID the image does not know runs in group 0; an unknown name is an error', async () => {
    assert.deepEqual(await resolveUser(read, '4242'), {
      uid: 4242,
      gid: 0,
      additionalGids: [],
      home: '/',
      passwdLine: '4242:*:4242:0:container user:/:/bin/sh',
      groupLine: '4242:x:4242:4242',
    });
    assert.deepEqual(await resolveUser(empty, '4242:7'), {
      uid: 4242,
      gid: 7,
      additionalGids: [],
      home: '/',
      passwdLine: '4242:*:4242:7:container user:/:/bin/sh',
      groupLine: '7:x:7:4242',
    });
    await assert.rejects(resolveUser(read, 'ghost'), /unable to find user ghost: no matching entries in passwd file/);
    await assert.rejects(resolveUser(read, 'app:ghosts'), /unable to find group ghosts/);
    await assert.rejects(resolveUser(empty, 'app'), /unable to find user app/);
  });

  test("podman's passwd and group lines for numbers the image does not know; home is the workdir", { timeout: 5_000 }, async () => {
    const lines = async (spec: string) => {
      const u = await resolveUser(read, spec, '/wd');
      return [u.home, u.passwdLine, u.groupLine];
    };
    assert.deepEqual(await lines('100'), ['/wd', '100:*:100:0:container user:/wd:/bin/sh', '100:x:100:100']);
    assert.deepEqual(await lines('100:200'), ['/wd', '100:*:100:200:container user:/wd:/bin/sh', '200:x:200:100']);
    assert.deepEqual(await lines('100:nogroup'), ['/wd', '100:*:100:65534:container user:/wd:/bin/sh', undefined]);
    assert.deepEqual(await lines('nobody:300'), ['/nonexistent', undefined, '300:x:300:nobody']);
    assert.deepEqual(await lines('0:300'), ['/root', undefined, '300:x:300:0']);
    assert.deepEqual(await lines('65534'), ['/nonexistent', undefined, undefined]);
    assert.deepEqual(await lines(''), ['/root', undefined, undefined]);
    assert.deepEqual(await lines('app'), ['/home/app', undefined, undefined]);
  });

  test('a second colon belongs to the group, which then matches nothing (as podman reads it)', { timeout: 5_000 }, async () => {
    await assert.rejects(resolveUser(read, 'app:wheel:x'), { message: 'unable to find group wheel:x: no matching entries in group file' });
    await assert.rejects(resolveUser(read, '1000:10:3'), { message: 'unable to find group 10:3: no matching entries in group file' });
  });
});

test("HOME is the user's home unless the environment has one", { timeout: 5_000 }, () => {
  assert.deepEqual(withHome(['PATH=/bin'], '/wd'), ['PATH=/bin', 'HOME=/wd']);
  assert.deepEqual(withHome(['HOME=/x', 'PATH=/bin'], '/wd'), ['HOME=/x', 'PATH=/bin']);
});
