import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTransportRef } from './copy.js';

test('skopeo-style transport references', () => {
  assert.deepEqual(parseTransportRef('oci:/tmp/l:v1'), { transport: 'oci', path: '/tmp/l', name: 'v1' });
  assert.deepEqual(parseTransportRef('oci:/tmp/l'), { transport: 'oci', path: '/tmp/l' });
  assert.deepEqual(parseTransportRef('oci-archive:a.tar:x/y:1'), { transport: 'oci-archive', path: 'a.tar', name: 'x/y:1' });
  assert.deepEqual(parseTransportRef('docker-archive:/a.tar'), { transport: 'docker-archive', path: '/a.tar' });
  assert.deepEqual(parseTransportRef('berth:busybox'), { transport: 'berth', name: 'busybox' });
  assert.deepEqual(parseTransportRef('containers-storage:busybox'), { transport: 'berth', name: 'busybox' });
  const docker = parseTransportRef('docker://quay.io/a/b:1');
  assert.equal(docker.transport, 'docker');
  assert.throws(() => parseTransportRef('docker:quay.io/a'), /docker:\/\/NAME/);
  assert.throws(() => parseTransportRef('busybox'), /unknown transport ""/);
  assert.throws(() => parseTransportRef('dir:/x'), /unknown transport "dir"/);
  assert.throws(() => parseTransportRef('oci:'), /a path is needed/);
});
