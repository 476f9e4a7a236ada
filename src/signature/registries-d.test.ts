import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDockerRef } from '../oci/reference.js';
import { fixture } from '../testing/fixtures.js';
import { dockerScopes, loadRegistriesD, lookasideTopLevel, registriesDirPath, useSigstoreAttachments } from './registries-d.js';

const dir = () => fixture('containers-image', 'docker', 'fixtures', 'registries.d');
const ref = parseDockerRef;

describe('registries.d', { timeout: 10_000 }, () => {
  it("merges containers/image's fixture folder (*.yaml only) and picks the most specific scope", async () => {
    const c = await loadRegistriesD(dir());
    // invalid-but.notyaml is not read; emptyConfig.yaml adds nothing.
    assert.equal(c.docker.size, 12);
    const read = (r: string) => lookasideTopLevel(c, ref(r), false);
    const write = (r: string) => lookasideTopLevel(c, ref(r), true);
    assert.equal(read('example.com/ns/repo:1'), 'https://lookaside.example.com');
    assert.equal(read('docker.io/centos/mybetaproduct:latest'), 'https://lookaside.centos.org/');
    assert.equal(write('docker.io/centos/mybetaproduct:latest'), 'https://lookaside.centos.org/');
    assert.equal(read('docker.io/centos/mybetaproduct:other'), 'http://localhost:9999/mybetaWIP/lookaside');
    assert.equal(write('docker.io/centos/mybetaproduct:other'), 'file:///srv/mybetaWIP/lookaside');
    assert.equal(read('centos/other'), 'https://lookaside.centos.org/');
    assert.equal(read('contoso/app'), 'https://lookaside.contoso.com/fordocker');
    assert.equal(write('registry.test.example.com:8888/a/b'), 'https://registry.test.example.com:8889/lookaside/specialAPIserverWhichDoesNotExist');
    assert.equal(read('registry.test.example.com:8888/a/b'), 'http://registry.test.example.com:8889/lookaside');
    assert.equal(read('registry.test.example.com/a/b'), 'http://registry.test.example.com/lookaside');
    assert.equal(read('localhost:8080/x'), 'file:///home/mitr/mydevelopment2');
    assert.equal(read('localhost/x'), 'file:///home/mitr/mydevelopment1');
    assert.equal(read('busybox'), 'file:///mnt/companywide/signatures/for/other/repositories');
    assert.equal(read('quay.io/a/b'), 'file:///mnt/companywide/signatures/for/other/repositories');
    assert.equal(useSigstoreAttachments(c, ref('example.com/a')), false);
  });

  it('lists scopes as containers/image: reference, repository, namespaces, host, wildcard domains without the port', () => {
    assert.deepEqual(dockerScopes(ref('registry.example.com:5000/ns/app:1')), [
      'registry.example.com:5000/ns/app:1',
      'registry.example.com:5000/ns/app',
      'registry.example.com:5000/ns',
      'registry.example.com:5000',
      '*.example.com',
      '*.com',
    ]);
  });

  it('refuses a scope or default-docker defined twice, reads the old sigstore names and use-sigstore-attachments', async () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-regd-'));
    try {
      writeFileSync(
        join(d, 'a.yaml'),
        'default-docker:\n  sigstore: file:///old\ndocker:\n  example.com:\n    sigstore-staging: file:///stage\n    use-sigstore-attachments: true\n  "*.example.org":\n    lookaside: https://wild\n',
      );
      const c = await loadRegistriesD(d);
      assert.equal(lookasideTopLevel(c, ref('example.com/x'), true), 'file:///stage');
      assert.equal(lookasideTopLevel(c, ref('example.com/x'), false), 'file:///old');
      assert.equal(lookasideTopLevel(c, ref('a.b.example.org/x'), false), 'https://wild');
      assert.equal(useSigstoreAttachments(c, ref('example.com/x:1')), true);
      writeFileSync(join(d, 'b.yaml'), 'docker:\n  example.com:\n    lookaside: file:///again\n');
      await assert.rejects(loadRegistriesD(d), /docker scope "example.com" is already defined in .*a\.yaml/);
      writeFileSync(join(d, 'b.yaml'), 'default-docker:\n  lookaside: file:///again\n');
      await assert.rejects(loadRegistriesD(d), /default-docker is already defined/);
      writeFileSync(join(d, 'b.yaml'), 'docker: [1, 2]\n');
      await assert.rejects(loadRegistriesD(d), /docker is not a mapping/);
      assert.deepEqual((await loadRegistriesD(join(d, 'missing'))).docker.size, 0);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('reads --registries.d, else the user folder when it exists, else /etc/containers/registries.d', async () => {
    const home = mkdtempSync(join(tmpdir(), 'berth-regd-home-'));
    const saved = process.env.HOME;
    try {
      process.env.HOME = home;
      assert.equal(await registriesDirPath('/x'), '/x');
      assert.equal(await registriesDirPath(), '/etc/containers/registries.d');
      mkdirSync(join(home, '.config', 'containers', 'registries.d'), { recursive: true });
      assert.equal(await registriesDirPath(), join(home, '.config', 'containers', 'registries.d'));
    } finally {
      process.env.HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
