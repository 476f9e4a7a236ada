import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveUser } from './user.js';

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
    assert.deepEqual(await resolveUser(read, '4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
    assert.deepEqual(await resolveUser(empty, '4242:7'), { uid: 4242, gid: 7, additionalGids: [], home: '/' });
    await assert.rejects(resolveUser(read, 'ghost'), /unable to find user ghost: no matching entries in passwd file/);
    await assert.rejects(resolveUser(read, 'app:ghosts'), /unable to find group ghosts/);
    await assert.rejects(resolveUser(empty, 'app'), /unable to find user app/);
  });

  test('a second colon belongs to the group, which then matches nothing (as podman reads it)', { timeout: 5_000 }, async () => {
    await assert.rejects(resolveUser(read, 'app:wheel:x'), { message: 'unable to find group wheel:x: no matching entries in group file' });
    await assert.rejects(resolveUser(read, '1000:10:3'), { message: 'unable to find group 10:3: no matching entries in group file' });
  });
});
