// The redesigned distribution-spec conformance suite (the `conformance` binary of
// opencontainers/distribution-spec at 97274622, configured by OCI_* variables), mirrored in
// v2-*.ts: once with the defaults (OCI_VERSION=1.1), once as 1.1+dev (digest headers required,
// upload cancel and ?tag= on manifest PUT), each against a fresh registry on 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from '../../registry/server.js';
import { setBaseUrl } from './setup.js';
import { conformanceSuite, defaultConfig, devConfig, skipped, type SuiteConfig } from './v2-suite.js';

/**
 * What berth answers in a way the suite counts as a skip: a POST ?mount= without `from` opens an
 * upload session (202) instead of mounting a blob found in some other repository, which would tell
 * a client about content in repositories it may not be allowed to read.
 */
const EXPECTED_SKIPS = [/^upload: mount returned 202/];

function run(title: string, cfg: SuiteConfig): void {
  describe(title, () => {
    let dir = '';
    let registry: RunningRegistry | undefined;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'berth-conformance-v2-'));
      registry = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'storage') });
      setBaseUrl(registry.url);
    });
    after(async () => {
      await registry?.close();
      await rm(dir, { recursive: true, force: true });
    });
    conformanceSuite('OCI Conformance Test', cfg);
  });
}

run('OCI conformance (OCI_VERSION=1.1)', defaultConfig('conformance/repo1', 'conformance/repo2'));
run('OCI conformance (OCI_VERSION=1.1+dev)', devConfig('conformance/repo1', 'conformance/repo2'));

describe('OCI conformance skips', () => {
  it('berth is skipped only where expected', () => {
    assert.deepEqual(
      skipped.filter((s) => !EXPECTED_SKIPS.some((re) => re.test(s))),
      [],
    );
  });
});
