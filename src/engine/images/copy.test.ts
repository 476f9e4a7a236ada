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
  assert.deepEqual(parseTransportRef('dir:/x'), { transport: 'dir', path: '/x' });
  assert.throws(() => parseTransportRef('dir:'), /a path is needed/);
  assert.throws(() => parseTransportRef('oci:'), /a path is needed/);
});

test('skopeo sync YAML: all tags, listed tags, tag regexes, per-registry TLS and credentials', async () => {
  const { parseSyncYaml } = await import('./sync.js');
  const sources = parseSyncYaml(
    'reg.example:5000:\n  tls-verify: false\n  credentials:\n    username: u\n    password: p\n  images:\n    team/app: []\n    base:\n      - "1.0"\n  images-by-tag-regex:\n    team/web: ^v1\\.\n',
  );
  assert.equal(sources.length, 3);
  assert.equal(sources[0]!.ref.path, 'team/app');
  assert.equal(sources[0]!.tags, undefined);
  assert.deepEqual(sources[1]!.tags, ['1.0']);
  assert.ok(sources[2]!.tagPattern?.test('v1.2') && !sources[2]!.tagPattern.test('v2.0'));
  assert.deepEqual(sources[0]!.options, { tlsVerify: false, creds: { username: 'u', password: 'p' } });
  assert.throws(() => parseSyncYaml('- a\n- b'), /expected a mapping|bad/);
});
