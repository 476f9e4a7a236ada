// The conformance mirror (the classic workflows and the redesigned runner, as conformance.test.ts and
// conformance-v2.test.ts run them over a directory) against `berth registry serve` on S3: a private
// Ceph RGW, one bucket, a fresh prefix and server per run, the server started from a config file with
// [storage.s3] and with AWS_CA_BUNDLE set (to a file that does not exist: an http endpoint needs none).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startCephRgw, type CephRgw } from '../ceph-rgw.js';
import { tempDir } from '../cli.js';
import { createBucket, s3ConfigToml, serveWithConfig, type ServedRegistry } from '../s3-registry.js';
import { discoveryWorkflow } from './discovery.js';
import { managementWorkflow } from './management.js';
import { pullWorkflow } from './pull.js';
import { pushWorkflow } from './push.js';
import { setBaseUrl, type WorkflowOptions } from './setup.js';
import { conformanceSuite, defaultConfig, devConfig, skipped, type SuiteConfig } from './v2-suite.js';

const BUCKET = 'conformance';
/** As in conformance-v2.test.ts: a POST ?mount= without `from` opens a session instead of searching every repository. */
const EXPECTED_SKIPS = [/^upload: mount returned 202/];

describe('OCI conformance against registry serve on S3 (Ceph RGW)', { timeout: 15 * 60_000 }, () => {
  const tmp = tempDir('berth-conformance-s3-');
  let rgw: CephRgw | undefined;
  before(
    async () => {
      rgw = await startCephRgw();
      await createBucket(rgw, BUCKET);
    },
    { timeout: 120_000 },
  );
  after(async () => {
    await rgw?.stop();
    tmp.cleanup();
  });

  /** A server on a fresh prefix for the tests declared by `body`. */
  const onFreshServer = (title: string, body: () => void) =>
    describe(title, () => {
      let server: ServedRegistry | undefined;
      before(async () => {
        const dir = `${tmp.path}/${randomUUID()}`;
        await mkdir(dir);
        server = await serveWithConfig(dir, s3ConfigToml(rgw!, BUCKET, `run-${randomUUID()}`), { AWS_CA_BUNDLE: '/nonexistent/ca-bundle.pem' });
        setBaseUrl(server.url);
      });
      after(async () => {
        assert.equal(await server?.stop(), 0, 'registry serve stops cleanly on SIGTERM');
      });
      body();
    });

  const classic = (title: string, opts: WorkflowOptions) =>
    onFreshServer(title, () => {
      pullWorkflow(opts);
      pushWorkflow(opts);
      discoveryWorkflow(opts);
      managementWorkflow(opts);
    });
  classic('OCI Distribution Conformance Tests on S3', { deleteManifestBeforeBlobs: true });
  classic('OCI Distribution Conformance Tests on S3 (blobs deleted before manifests)', { deleteManifestBeforeBlobs: false });

  const v2 = (title: string, cfg: SuiteConfig) => onFreshServer(title, () => conformanceSuite('OCI Conformance Test', cfg));
  v2('OCI conformance on S3 (OCI_VERSION=1.1)', defaultConfig('conformance/repo1', 'conformance/repo2'));
  v2('OCI conformance on S3 (OCI_VERSION=1.1+dev)', devConfig('conformance/repo1', 'conformance/repo2'));

  it('is skipped only where expected', () => {
    assert.deepEqual(
      skipped.filter((s) => !EXPECTED_SKIPS.some((re) => re.test(s))),
      [],
    );
  });
});
