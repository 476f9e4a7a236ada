// The classic distribution-spec conformance suite (ginkgo: setup.go, 01_pull_test.go,
// 02_push_test.go, 03_discovery_test.go, 04_management_test.go), mirrored: its four workflows in its
// order (pull, push, content discovery, content management) against one registry on 127.0.0.1 over a
// temp directory; once as the Go suite runs by default, once with OCI_DELETE_MANIFEST_BEFORE_BLOBS=false.
// The suite's redesign (one runner: run.go, api.go, testdata.go, config.go; the `conformance` binary
// as of commit 97274622) is mirrored in v2-*.ts and run by conformance-v2.test.ts. The numbered
// files 01_base_api_route_test.go ... 09_blob_delete_test.go (and 05_referrers.go) are older
// layouts of the suite, superseded by both; they are not mirrored, since some of their checks
// contradict the spec as it is now (08: "DELETE request to manifest URL (tag) MUST fail").
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { startRegistry, type RunningRegistry } from '../../registry/server.js';
import { discoveryWorkflow } from './discovery.js';
import { managementWorkflow } from './management.js';
import { pullWorkflow } from './pull.js';
import { pushWorkflow } from './push.js';
import { setBaseUrl, type WorkflowOptions } from './setup.js';

function suite(title: string, opts: WorkflowOptions): void {
  describe(title, () => {
    let dir = '';
    let registry: RunningRegistry | undefined;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'berth-conformance-'));
      registry = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'storage') });
      setBaseUrl(registry.url);
    });
    after(async () => {
      await registry?.close();
      await rm(dir, { recursive: true, force: true });
    });

    pullWorkflow(opts);
    pushWorkflow(opts);
    discoveryWorkflow(opts);
    managementWorkflow(opts);
  });
}

suite('OCI Distribution Conformance Tests', { deleteManifestBeforeBlobs: true });
suite('OCI Distribution Conformance Tests (blobs deleted before manifests)', { deleteManifestBeforeBlobs: false });
