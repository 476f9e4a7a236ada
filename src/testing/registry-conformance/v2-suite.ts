// The redesigned distribution-spec conformance suite (its run.go), mirrored: ping, empty listings,
// every blob upload API per digest algorithm (with range requests, odd blobs and bad digests), then
// per data set push, tag list, HEAD, GET, referrers and delete, then manifest error cases. Checks
// the Go suite counts as skipped (Unsupported) are skipped here too, and recorded in `skipped`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { digestOf, type Algorithm } from '../../oci/digest.js';
import {
  blobDelete,
  blobGetExists,
  blobHeadExists,
  blobMount,
  blobPatchChunked,
  blobPatchStream,
  blobPostCancel,
  blobPostOnly,
  blobPostPut,
  CHUNK_MIN,
  expectBody,
  expectHeader,
  expectStatus,
  manifestDelete,
  manifestGet,
  manifestGetExists,
  manifestHead,
  manifestHeadExists,
  manifestPut,
  NotRun,
  ping,
  referrersList,
  tagList,
  Unsupported,
  type Opts,
} from './v2-api.js';
import { DataSet, generateDataSets, genManifestFull, type DataConfig, type Desc } from './v2-data.js';
import { send } from './setup.js';

/** The suite's configuration (oci-conformance.yaml / OCI_* variables) as far as it changes requests or assertions. */
export interface SuiteConfig {
  repo1: string;
  repo2: string;
  blobs: { atomic: boolean; delete: boolean; digestHeader: boolean; mountAnonymous: boolean; uploadCancel: boolean };
  manifests: { atomic: boolean; delete: boolean; digestHeader: boolean; tagParam: boolean };
  tags: { atomic: boolean; delete: boolean; list: boolean };
  referrer: boolean;
  data: Omit<DataConfig, 'tagParam'>;
}

/** OCI_VERSION=1.1 (the default): what `conformance` checks with no configuration. */
export function defaultConfig(repo1: string, repo2: string): SuiteConfig {
  return {
    repo1,
    repo2,
    blobs: { atomic: true, delete: true, digestHeader: false, mountAnonymous: true, uploadCancel: false },
    manifests: { atomic: true, delete: true, digestHeader: false, tagParam: false },
    tags: { atomic: true, delete: true, list: true },
    referrer: true,
    data: {
      index: true,
      indexList: true,
      sparse: false,
      artifact: true,
      subject: true,
      subjectMissing: true,
      artifactList: true,
      subjectList: true,
      dataField: true,
      nondistributable: true,
      customFields: true,
      noLayers: true,
      emptyBlob: true,
      sha512: true,
    },
  };
}

/** OCI_VERSION=1.1+dev: digest headers required, upload cancel and tag parameters tested too. */
export function devConfig(repo1: string, repo2: string): SuiteConfig {
  const c = defaultConfig(repo1, repo2);
  c.blobs.uploadCancel = true;
  c.blobs.digestHeader = true;
  c.manifests.digestHeader = true;
  c.manifests.tagParam = true;
  return c;
}

/** Checks the Go suite would report as skipped: "name: reason". */
export const skipped: string[] = [];

/** A GET of `range` of a blob: a 200 with the whole blob means ranges are unsupported (a skip, as in Go). */
async function rangeGet(repo: string, digest: string, range: string, bytes: Buffer): ReturnType<typeof send> {
  const r = await send('GET', `/v2/${repo}/blobs/${digest}`, { headers: { Range: range } });
  if (r.status === 200) {
    expectHeader(r, 'Content-Length', String(bytes.length));
    expectBody(r, bytes);
    throw new Unsupported('range request unsupported, full blob returned');
  }
  return r;
}

type Check = () => Promise<void>;

/** One Go ChildRun: an `it` that passes, fails, or skips on Unsupported (errRegUnsupported). */
function check(name: string, fn: Check, enabled = true): void {
  it(name, async (t: TestContext) => {
    if (!enabled) return t.skip('disabled in the configuration');
    try {
      await fn();
    } catch (e) {
      if (e instanceof NotRun) return t.skip(e.message);
      if (!(e instanceof Unsupported)) throw e;
      skipped.push(`${t.name}: ${e.message}`);
      t.skip(e.message);
    }
  });
}

type BlobApi = 'post+put' | 'post only' | 'stream' | 'chunked';
const BLOB_APIS: BlobApi[] = ['post+put', 'post only', 'stream', 'chunked'];

export function conformanceSuite(title: string, cfg: SuiteConfig): void {
  const { repo1: repo, repo2 } = cfg;
  const blobOpts: Opts = { requireDigestHeader: cfg.blobs.digestHeader };
  const manOpts: Opts = { requireDigestHeader: cfg.manifests.digestHeader };
  // TestPushBlobAny: untested APIs first, then those known to pass; the first that works wins.
  const tested = new Set<string>();
  const passed = new Set<BlobApi>();

  async function pushBlobAny(r: string, digest: string, td: DataSet, opts: Opts = blobOpts): Promise<void> {
    const algo = digest.split(':')[0]!;
    const order = [
      ...BLOB_APIS.filter((a) => !tested.has(a)),
      ...BLOB_APIS.filter((a) => !tested.has(`${algo}/${a}`)),
      ...BLOB_APIS.filter((a) => passed.has(a)),
      ...BLOB_APIS,
    ].filter((a, i, all) => all.indexOf(a) === i);
    // Each attempt is a test of its own there: a hard failure counts even when a later API pushes the blob.
    const errors: unknown[] = [];
    for (const api of order) {
      tested.add(api);
      tested.add(`${algo}/${api}`);
      try {
        await pushTo(r, api, digest, td, opts);
        passed.add(api);
        break;
      } catch (e) {
        if (e instanceof Unsupported) skipped.push(`push ${digest} with ${api}: ${e.message}`);
        else errors.push(e);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `blob upload of ${digest} failed: ${errors.map(String).join('; ')}`);
  }

  async function pushTo(r: string, api: BlobApi, digest: string, td: DataSet, opts: Opts): Promise<void> {
    switch (api) {
      case 'post+put':
        return blobPostPut(r, digest, td, opts);
      case 'post only':
        return blobPostOnly(r, digest, td, opts);
      case 'stream':
        return blobPatchStream(r, digest, td, opts);
      case 'chunked':
        return blobPatchChunked(r, digest, td, opts);
    }
  }

  /** TestDeleteBlob: DELETE, then (atomic) HEAD gives 404. */
  async function deleteBlob(r: string, digest: string): Promise<void> {
    await blobDelete(r, digest);
    if (cfg.blobs.atomic) expectStatus(await send('HEAD', `/v2/${r}/blobs/${digest}`), 404);
  }

  describe(title, () => {
    // The Go suite only needs an answer here; the spec (and the classic suite) says 200.
    check('ping', async () => expectStatus(await ping(), 200));

    describe('empty', () => {
      check('tag list', async () => void (await tagList(repo)), cfg.tags.list);
      check('referrers', async () => void (await referrersList(repo, digestOf(randomBytes(16).toString('hex')))), cfg.referrer);
    });

    for (const algo of cfg.data.sha512 ? (['sha256', 'sha512'] as Algorithm[]) : (['sha256'] as Algorithm[])) {
      blobApis(algo);
    }

    for (const td of generateDataSets({ ...cfg.data, tagParam: cfg.manifests.tagParam })) dataSet(td);

    manifestErrors();
  });

  function blobApis(algo: Algorithm): void {
    describe(`${algo} blobs`, () => {
      const td = new DataSet(`blobs-${algo}`, `Blobs ${algo}`);
      const names = ['post only', 'post+put', 'chunked single', 'stream', 'mount', 'mount anonymous', 'mount missing', 'post cancel'];
      const digests = new Map(names.map((n) => [n, td.randomBlob(512, { algo }).digest]));
      let minChunk = CHUNK_MIN;

      check('get-missing', async () => expectStatus(await send('GET', `/v2/${repo}/blobs/${digests.get('post cancel')}`), 404));

      const uploads: [string, () => Promise<string>, boolean][] = [
        ['post only', async () => (await blobPostOnly(repo, digests.get('post only')!, td, blobOpts), digests.get('post only')!), true],
        ['post+put', async () => (await blobPostPut(repo, digests.get('post+put')!, td, blobOpts), digests.get('post+put')!), true],
        [
          'chunked single',
          async () => {
            const d = digests.get('chunked single')!;
            await blobPatchChunked(repo, d, td, { ...blobOpts, onMinLength: (v) => (minChunk = Math.max(minChunk, Number(v) || 0)) });
            return d;
          },
          true,
        ],
        ['stream', async () => (await blobPatchStream(repo, digests.get('stream')!, td, blobOpts), digests.get('stream')!), true],
        [
          'mount',
          async () => {
            const d = digests.get('mount')!;
            await pushBlobAny(repo2, d, td);
            await blobMount(repo, repo2, d, td, blobOpts);
            return d;
          },
          true,
        ],
        [
          'mount anonymous',
          async () => {
            const d = digests.get('mount anonymous')!;
            await pushBlobAny(repo2, d, td);
            await blobMount(repo, '', d, td, blobOpts);
            return d;
          },
          cfg.blobs.mountAnonymous,
        ],
        [
          'mount missing',
          async () => {
            // a mount from a repository that lacks the blob must not succeed
            const d = digests.get('mount missing')!;
            try {
              await blobMount(repo, repo2, d, td, blobOpts);
            } catch (e) {
              if (e instanceof Unsupported) return d;
              throw e;
            }
            assert.fail('blob mount of missing blob incorrectly succeeded');
          },
          true,
        ],
        ['post cancel', async () => (await blobPostCancel(repo), digests.get('post cancel')!), cfg.blobs.uploadCancel],
        ...(['chunked multi', 'chunked multi and put chunk', 'chunked out-of-order', 'chunked out-of-order and put chunk'] as const).map(
          (name): [string, () => Promise<string>, boolean] => [
            name,
            async () => {
              // large enough for three chunks
              const d = td.randomBlob(minChunk * 3 - 5, { algo }).digest;
              digests.set(name, d);
              await blobPatchChunked(repo, d, td, { ...blobOpts, putLastChunk: name.includes('put chunk'), outOfOrder: name.includes('out-of-order') });
              return d;
            },
            true,
          ],
        ),
      ];
      for (const [name, upload, enabled] of uploads) {
        describe(name, () => {
          let ok = false;
          check(
            'upload',
            async () => {
              await upload();
              ok = true;
            },
            enabled,
          );
          if (name !== 'post cancel') {
            const notRun = (): never => {
              throw new NotRun('the upload did not succeed');
            };
            check('blob-head', async () => (ok ? blobHeadExists(repo, digests.get(name)!, td, blobOpts) : notRun()));
            check('blob-get', async () => (ok ? blobGetExists(repo, digests.get(name)!, td, blobOpts) : notRun()));
          }
          check('blob-delete', () => deleteBlob(repo, digests.get(name)!), cfg.blobs.delete);
          if (name === 'mount' || name === 'mount anonymous')
            check('blob-delete (source repository)', () => deleteBlob(repo2, digests.get(name)!), cfg.blobs.delete);
        });
      }

      describe('range requests', () => {
        const len = 2048;
        const { digest, bytes } = td.randomBlob(len, { algo });
        check('setup', () => pushBlobAny(repo, digest, td));
        const cases: [string, string, number, number][] = [
          ['range 500-1499', 'bytes=500-1499', 500, 1499],
          ['range 500-', 'bytes=500-', 500, len - 1],
          ['range -500', 'bytes=-500', len - 500, len - 1],
          ['range 2000-5000', 'bytes=2000-5000', 2000, len - 1],
        ];
        for (const [name, range, start, end] of cases) {
          check(name, async () => {
            const r = await rangeGet(repo, digest, range, bytes);
            expectStatus(r, 206);
            expectBody(r, bytes.subarray(start, end + 1));
            expectHeader(r, 'Content-Length', String(end - start + 1));
            const cr = r.header('content-range');
            assert.ok(cr === `bytes ${start}-${end}/${len}` || cr === `bytes ${start}-${end}/*`, `Content-Range ${JSON.stringify(cr)}`);
          });
        }
        for (const [name, range] of [
          ['range 500-0', 'bytes=500-0'],
          ['range 5000-10000', 'bytes=5000-10000'],
        ] as const) {
          check(name, async () => {
            const r = await rangeGet(repo, digest, range, bytes);
            expectStatus(r, 416);
          });
        }
        check('blob-delete', () => deleteBlob(repo, digest), cfg.blobs.delete);
      });

      const known: [string, Buffer][] = [...(cfg.data.emptyBlob ? [['empty', Buffer.alloc(0)] as [string, Buffer]] : []), ['emptyJSON', Buffer.from('{}')]];
      for (const [name, bytes] of known) {
        describe(name, () => {
          const digest = td.addBlob(bytes, { algo });
          check('push', () => pushBlobAny(repo, digest, td));
          check('blob-head', () => blobHeadExists(repo, digest, td, blobOpts));
          check('blob-get', () => blobGetExists(repo, digest, td, blobOpts));
          check('blob-delete', () => deleteBlob(repo, digest), cfg.blobs.delete);
        });
      }

      describe('bad digests', () => {
        const bad = (): string => {
          const { digest, bytes } = td.randomBlob(minChunk * 3 - 5, { algo });
          td.blobs.set(digest, Buffer.concat([bytes, Buffer.from('oh no')]));
          return digest;
        };
        const badOpts = { ...blobOpts, badDigest: true };
        check('bad digest post only', () => blobPostOnly(repo, bad(), td, badOpts));
        check('bad digest post+put', () => blobPostPut(repo, bad(), td, badOpts));
        check('bad digest chunked', () => blobPatchChunked(repo, bad(), td, badOpts));
        // the Go suite sends this one exactly as the previous (no PutLastChunk flag)
        check('bad digest chunked and put chunk', () => blobPatchChunked(repo, bad(), td, badOpts));
        check('bad digest stream', () => blobPatchStream(repo, bad(), td, badOpts));
      });
    });
  }

  function dataSet(td: DataSet): void {
    describe(td.id, () => {
      const badDigest = (d: string): boolean => td.flags.get(d)?.badDigest === true;
      describe('push', () => {
        for (const digest of td.blobs.keys()) check(`blob ${digest.slice(0, 19)}`, () => pushBlobAny(repo, digest, td));
        for (const digest of td.order) {
          check(`manifest-by-digest ${digest.slice(0, 19)}`, async () => {
            const query: [string, string][] = [];
            const expectTags: string[] = [];
            if (td.flags.get(digest)?.tagParam) {
              for (const [tag, d] of td.tags) {
                if (d !== digest) continue;
                query.push(['tag', tag]);
                expectTags.push(tag);
              }
            }
            const r = await manifestPut(repo, digest, digest, td, cfg.referrer, { ...manOpts, badDigest: badDigest(digest), query });
            if (expectTags.length > 0) {
              const got = (r.headers['oci-tag'] === undefined ? [] : ([] as string[]).concat(r.headers['oci-tag'])).flatMap((v) =>
                v.split(',').map((s) => s.trim()),
              );
              const missing = expectTags.filter((t) => !got.includes(t));
              if (missing.length > 0) throw new Unsupported(`header missing OCI-Tag: ${missing.join(', ')}`);
              for (const t of expectTags) td.tagPushed.add(t);
            }
          });
        }
        for (const [tag, digest] of td.tags) {
          check(`manifest-by-tag ${tag}`, async () => {
            if (td.tagPushed.has(tag)) throw new NotRun('already tagged by the push by digest (?tag=)');
            await manifestPut(repo, tag, digest, td, cfg.referrer, { ...manOpts, badDigest: badDigest(digest) });
            td.tagPushed.add(tag);
          });
        }
      });

      check(
        'tag-list',
        async () => {
          const tags = await tagList(repo);
          const missing = [...td.tags.keys()].filter((t) => !tags.includes(t));
          assert.deepEqual(missing, [], 'tags missing from the listing');
          if (tags.length >= 2) {
            const sorted = [...tags].sort();
            const end = Math.floor(sorted.length / 2);
            const last = sorted[end - 1]!;
            const partial = await tagList(repo, last);
            for (const t of sorted.slice(0, end)) assert.ok(!partial.includes(t), `tag ${t} returned when last set to ${last}`);
            for (const t of sorted.slice(end)) assert.ok(partial.includes(t), `tag ${t} missing when last set to ${last}`);
          }
        },
        cfg.tags.list,
      );

      for (const [verb, byTag, byDigest, blob] of [
        ['head', manifestHeadExists, manifestHeadExists, blobHeadExists],
        ['pull', manifestGetExists, manifestGetExists, blobGetExists],
      ] as const) {
        describe(verb, () => {
          for (const [tag, digest] of td.tags) {
            if (!badDigest(digest)) check(`manifest by tag ${tag}`, () => byTag(repo, tag, digest, td, manOpts));
          }
          for (const digest of td.order) {
            if (!badDigest(digest)) check(`manifest by digest ${digest.slice(0, 19)}`, () => byDigest(repo, digest, digest, td, manOpts));
          }
          for (const digest of td.blobs.keys()) check(`blob ${digest.slice(0, 19)}`, () => blob(repo, digest, td, blobOpts));
        });
      }

      if (td.referrers.size > 0) check('referrers', () => referrers(td), cfg.referrer);

      describe('delete', () => {
        for (const tag of td.tags.keys()) {
          check(
            `tag-delete ${tag}`,
            async () => {
              if (!td.tagPushed.has(tag)) throw new NotRun('the tag was not pushed');
              await manifestDelete(repo, tag);
              if (cfg.tags.atomic) expectStatus(await manifestHead(repo, tag), 404);
            },
            cfg.tags.delete,
          );
        }
        for (const digest of [...td.order].reverse()) {
          check(
            `manifest-delete ${digest.slice(0, 19)}`,
            async () => {
              await manifestDelete(repo, digest);
              if (cfg.manifests.atomic) expectStatus(await manifestHead(repo, digest), 404);
            },
            cfg.manifests.delete,
          );
        }
        for (const digest of td.blobs.keys()) check(`blob-delete ${digest.slice(0, 19)}`, () => deleteBlob(repo, digest), cfg.blobs.delete);
      });
    });
  }

  async function referrers(td: DataSet): Promise<void> {
    const problems: string[] = [];
    let unsupported = '';
    const matches = (got: Desc, want: Desc): boolean =>
      got.digest === want.digest &&
      got.mediaType === want.mediaType &&
      got.size === want.size &&
      (got.artifactType ?? '') === (want.artifactType ?? '') &&
      Object.entries(want.annotations ?? {}).every(([k, v]) => got.annotations?.[k] === v);
    for (const [subject, goals] of td.referrers) {
      const { index } = await referrersList(repo, subject);
      for (const goal of goals) {
        if (!index.manifests.some((m) => matches(m, goal))) problems.push(`entry missing from referrers list of ${subject}: ${goal.digest}`);
      }
      for (const at of new Set(goals.map((g) => g.artifactType ?? ''))) {
        const { index: filtered, reply } = await referrersList(repo, subject, at);
        const applied = reply
          .header('oci-filters-applied')
          .split(',')
          .some((f) => f.trim() === 'artifactType');
        if (!applied) unsupported = 'registry does not set the expected OCI-Filters-Applied header for the artifactType';
        for (const goal of goals) {
          if ((!applied || (goal.artifactType ?? '') === at) && !filtered.manifests.some((m) => matches(m, goal))) {
            problems.push(`entry missing from referrers list of ${subject} filtered by ${at}: ${goal.digest}`);
          }
        }
        if (applied) {
          for (const m of filtered.manifests) {
            if ((m.artifactType ?? '') !== at) problems.push(`referrers filter for artifactType ${at} included ${m.digest} (${m.artifactType})`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
    if (unsupported !== '') throw new Unsupported(unsupported);
  }

  function manifestErrors(): void {
    describe('missing-manifest', () => {
      check('by-digest', async () => expectStatus(await manifestGet(repo, digestOf(randomBytes(1024))), 404));
      check('by-tag', async () => expectStatus(await manifestGet(repo, `missing-${randomBytes(10).toString('hex')}`), 404));
    });
    describe('invalid-digest-format', () => {
      const td = new DataSet('invalid-manifest-digest', 'Invalid Manifest Digest');
      const manifest = genManifestFull(td, { layerCount: 1 });
      for (const digest of td.blobs.keys()) check(`blob ${digest.slice(0, 19)}`, () => pushBlobAny(repo, digest, td));
      check('manifest-put', async () => {
        const body = td.manifests.get(manifest)!;
        const r = await send('PUT', `/v2/${repo}/manifests/sha256:baddigeststring`, {
          headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
          body,
          chunked: true,
        });
        expectStatus(r, 400);
      });
      check('manifest-get', async () => expectStatus(await manifestGet(repo, 'sha256:baddigeststring'), 404, 400));
      describe('delete', () => {
        for (const digest of [...td.order].reverse()) {
          check(
            'manifest-delete',
            async () => {
              await manifestDelete(repo, digest);
              if (cfg.manifests.atomic) expectStatus(await manifestHead(repo, digest), 404);
            },
            cfg.manifests.delete,
          );
        }
        for (const digest of td.blobs.keys()) check(`blob-delete ${digest.slice(0, 19)}`, () => deleteBlob(repo, digest), cfg.blobs.delete);
      });
    });
  }
}
