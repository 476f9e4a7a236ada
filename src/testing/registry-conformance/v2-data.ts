// Test content of the redesigned distribution-spec conformance suite (its testdata.go and the data
// sets its runner generates): images, indexes, artifacts, referrers and odd blobs, each data set a
// self-contained group of blobs, manifests (in push order) and tags, random on every run.
import { randomBytes, randomInt } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { digestOf, type Algorithm } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import type { Descriptor } from '../../oci/manifest.js';

export const MT_EXAMPLE_1 = 'application/vnd.example.oci.conformance.v1';
export const MT_EXAMPLE_2 = 'application/vnd.example.oci.conformance.v2';
export const MT_OCTET = 'application/octet-stream';

/** A descriptor as the suite writes it into manifests and indexes. */
export type Desc = Descriptor;

export interface Platform {
  architecture: string;
  os: string;
}

/** Flags that change how one manifest is pushed or pulled (the Go suite's pushOpts and pullOpts). */
export interface ContentFlags {
  /** The bytes do not match the digest: the push must be refused with 400, and nothing is pulled. */
  badDigest?: boolean;
  /** Pushed by digest with ?tag= for each of its tags. */
  tagParam?: boolean;
}

export class DataSet {
  readonly blobs = new Map<string, Buffer>();
  readonly desc = new Map<string, Desc>();
  readonly manifests = new Map<string, Buffer>();
  /** Push order: children before the manifests that name them. */
  readonly order: string[] = [];
  readonly tags = new Map<string, string>();
  readonly tagPushed = new Set<string>();
  /** Subject digest to the descriptors its referrers list must hold. */
  readonly referrers = new Map<string, Desc[]>();
  readonly flags = new Map<string, ContentFlags>();

  constructor(
    readonly id: string,
    readonly title: string,
  ) {}

  addBlob(bytes: Buffer, opts: GenOptions = {}): string {
    const digest = digestOf(bytes, opts.algo ?? 'sha256');
    this.blobs.set(digest, bytes);
    const d: Desc = { mediaType: opts.descriptorMediaType ?? MT_OCTET, digest, size: bytes.length };
    if (opts.setData) d.data = bytes.toString('base64');
    this.desc.set(digest, d);
    return digest;
  }

  randomBlob(size: number, opts: GenOptions = {}): { digest: string; bytes: Buffer } {
    const bytes = randomBytes(size);
    return { digest: this.addBlob(bytes, opts), bytes };
  }
}

export interface GenOptions {
  algo?: Algorithm;
  annotations?: Record<string, string>;
  annotationUniq?: boolean;
  artifactType?: string;
  uncompressed?: boolean;
  configBytes?: Buffer;
  configMediaType?: string;
  descriptorMediaType?: string;
  extraField?: boolean;
  layerBytes?: Buffer;
  layerCount?: number;
  layerMediaType?: string;
  platform?: Platform;
  platforms?: (Platform | undefined)[];
  setData?: boolean;
  subject?: Desc;
  tag?: string;
}

const amd64: Platform = { architecture: 'amd64', os: 'linux' };
const arm64: Platform = { architecture: 'arm64', os: 'linux' };

function randomText(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** A field no spec defines, with a random name and value: a registry must keep and serve it untouched. */
function withExtraField(doc: Record<string, unknown>, on: boolean | undefined): Record<string, unknown> {
  return on ? { ...doc, [`org.example.field.${randomText().toLowerCase()}`]: randomText() } : doc;
}

function withoutUndefined<T extends Record<string, unknown>>(doc: T): T {
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)) as T;
}

/** A one-file tar, gzipped unless asked not to: compressed digest (what is pushed) and the diff ID. */
function genLayer(td: DataSet, n: number, opts: GenOptions): { digest: string; diffId: string } {
  const file = Buffer.from(`Conformance test file contents for file number ${n}.\nTodays lucky number is ${randomInt(2 ** 47)}\n`);
  const header = Buffer.alloc(512);
  header.write(`./conformance-${n}.txt`, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${file.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const tar = Buffer.concat([header, file, Buffer.alloc(512 - (file.length % 512)), Buffer.alloc(1024)]);
  const body = opts.uncompressed ? tar : gzipSync(tar);
  const algo = opts.algo ?? 'sha256';
  const digest = digestOf(body, algo);
  td.blobs.set(digest, body);
  const d: Desc = { mediaType: opts.uncompressed ? MediaType.OciLayer : MediaType.OciLayerGzip, digest, size: body.length };
  if (opts.setData) d.data = body.toString('base64');
  td.desc.set(digest, d);
  return { digest, diffId: digestOf(tar, algo) };
}

function genConfig(td: DataSet, platform: Platform, diffIds: string[], opts: GenOptions): string {
  const config = withExtraField(
    { author: 'OCI Conformance Test', architecture: platform.architecture, os: platform.os, rootfs: { type: 'layers', diff_ids: diffIds } },
    opts.extraField,
  );
  const body = Buffer.from(JSON.stringify(config));
  const digest = digestOf(body, opts.algo ?? 'sha256');
  td.blobs.set(digest, body);
  const d: Desc = { mediaType: MediaType.OciConfig, digest, size: body.length };
  if (opts.setData) d.data = body.toString('base64');
  td.desc.set(digest, d);
  return digest;
}

function annotationsOf(opts: GenOptions): Record<string, string> | undefined {
  if (!opts.annotationUniq) return opts.annotations;
  return { ...opts.annotations, [`org.example.${randomText()}`]: randomText() };
}

function addManifest(
  td: DataSet,
  doc: Record<string, unknown>,
  mediaType: string,
  artifactType: string | undefined,
  annotations: Record<string, string> | undefined,
  opts: GenOptions,
): string {
  const body = Buffer.from(JSON.stringify(withExtraField(doc, opts.extraField)));
  const digest = digestOf(body, opts.algo ?? 'sha256');
  td.manifests.set(digest, body);
  td.order.push(digest);
  const d: Desc = { mediaType, digest, size: body.length };
  if (opts.setData) d.data = body.toString('base64');
  td.desc.set(digest, d);
  if (opts.subject) {
    const list = td.referrers.get(opts.subject.digest) ?? [];
    list.push({
      mediaType,
      digest,
      size: body.length,
      ...(artifactType !== undefined ? { artifactType } : {}),
      ...(annotations !== undefined ? { annotations } : {}),
    });
    td.referrers.set(opts.subject.digest, list);
  }
  if (opts.tag) td.tags.set(opts.tag, digest);
  return digest;
}

export function genManifest(td: DataSet, config: Desc, layers: Desc[], opts: GenOptions = {}): string {
  const annotations = annotationsOf(opts);
  const doc = withoutUndefined({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: opts.artifactType,
    config,
    layers,
    subject: opts.subject,
    annotations,
  });
  return addManifest(td, doc, MediaType.OciManifest, opts.artifactType ?? config.mediaType, annotations, opts);
}

/** An image (or artifact) with its layers and config; two gzipped layers unless told otherwise. */
export function genManifestFull(td: DataSet, opts: GenOptions = {}): string {
  const layerCount = opts.layerCount ?? 2;
  const layers: string[] = [];
  const diffIds: string[] = [];
  for (let n = 0; n < layerCount; n++) {
    if (opts.layerMediaType === undefined || opts.layerMediaType.startsWith('application/vnd.oci.image.layer.v1.')) {
      const l = genLayer(td, n, opts);
      layers.push(l.digest);
      diffIds.push(l.diffId);
    } else {
      const lopts = { ...opts, descriptorMediaType: opts.layerMediaType };
      const digest = opts.layerBytes ? td.addBlob(opts.layerBytes, lopts) : td.randomBlob(2048, lopts).digest;
      layers.push(digest);
      diffIds.push(digest);
    }
  }
  const config =
    opts.configMediaType === undefined || opts.configMediaType === MediaType.OciConfig
      ? genConfig(td, opts.platform ?? amd64, diffIds, opts)
      : td.addBlob(opts.configBytes ?? Buffer.alloc(0), { ...opts, descriptorMediaType: opts.configMediaType });
  return genManifest(
    td,
    td.desc.get(config)!,
    layers.map((l) => td.desc.get(l)!),
    opts,
  );
}

export function genIndex(td: DataSet, platforms: (Platform | undefined)[], children: string[], opts: GenOptions = {}): string {
  const annotations = annotationsOf(opts);
  const doc = withoutUndefined({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    artifactType: opts.artifactType,
    manifests: children.map((c, i) => withoutUndefined({ ...td.desc.get(c)!, platform: platforms[i] })),
    subject: opts.subject,
    annotations,
  });
  return addManifest(td, doc, MediaType.OciIndex, opts.artifactType, annotations, opts);
}

/** An index over one image per platform (amd64 and arm64 unless told otherwise); options apply to the children too. */
export function genIndexFull(td: DataSet, opts: GenOptions = {}): string {
  const platforms = opts.platforms ?? [amd64, arm64];
  const children = platforms.map((p) => genManifestFull(td, { ...opts, platform: p ?? amd64 }));
  return genIndex(td, platforms, children, opts);
}

/** The configuration that decides which data sets exist (the Go suite's OCI_DATA_* and OCI_API_MANIFESTS_TAG_PARAM). */
export interface DataConfig {
  index: boolean;
  indexList: boolean;
  sparse: boolean;
  artifact: boolean;
  subject: boolean;
  subjectMissing: boolean;
  artifactList: boolean;
  subjectList: boolean;
  dataField: boolean;
  nondistributable: boolean;
  customFields: boolean;
  noLayers: boolean;
  emptyBlob: boolean;
  sha512: boolean;
  tagParam: boolean;
}

const artifactOpts = (layerMediaType: string): GenOptions => ({
  artifactType: MT_EXAMPLE_1,
  configMediaType: MediaType.OciEmpty,
  configBytes: Buffer.from('{}'),
  layerCount: 1,
  layerMediaType,
});

const referrerOpts = (artifactType: string, layerMediaType: string, subject: Desc, tag: string): GenOptions => ({
  ...artifactOpts(layerMediaType),
  artifactType,
  annotations: { 'org.opencontainers.conformance': 'hello conformance test' },
  annotationUniq: true,
  subject,
  tag,
});

/** The data sets in the order the Go runner tests them (sparse is off by default there, and here not mirrored). */
export function generateDataSets(cfg: DataConfig): DataSet[] {
  const sets: DataSet[] = [];
  const add = (id: string, title: string, fill: (td: DataSet) => void): void => {
    const td = new DataSet(id, title);
    fill(td);
    sets.push(td);
  };
  add('image', 'Image', (td) => genManifestFull(td, { tag: 'image' }));
  add('image-uncompressed', 'Image Uncompressed', (td) => genManifestFull(td, { tag: 'image-uncompressed', uncompressed: true }));
  add('large-manifest', 'Image with Large Manifest', (td) => {
    const annotations: Record<string, string> = {};
    for (let i = 0; i < 390; i++) annotations[`large-annotation-${i}`] = 'A'.repeat(10000);
    genManifestFull(td, { tag: 'large-manifest', annotations });
  });
  if (cfg.index) add('index', 'Index', (td) => genIndexFull(td, { tag: 'index' }));
  if (cfg.index && cfg.indexList) {
    add('nested-index', 'Nested Index', (td) => {
      const a = genIndexFull(td);
      const b = genIndexFull(td);
      genIndex(td, [undefined, undefined], [a, b], { tag: 'index-of-index' });
    });
  }
  if (cfg.index) add('empty-index', 'Empty Index', (td) => genIndexFull(td, { tag: 'index', platforms: [] }));
  if (cfg.artifact) add('artifact', 'Artifact', (td) => genManifestFull(td, { tag: 'artifact', ...artifactOpts(MT_EXAMPLE_1) }));
  if (cfg.artifactList) {
    add('artifact-index', 'Artifact Index', (td) => genIndexFull(td, { tag: 'artifact-index', ...artifactOpts(MT_EXAMPLE_1) }));
  }
  if (cfg.artifact) {
    add('artifact-without-layers', 'Artifact without Layers', (td) =>
      genManifestFull(td, { tag: 'artifact-without-layers', ...artifactOpts(MediaType.OciEmpty), layerBytes: Buffer.from('{}') }),
    );
  }
  if (cfg.subject) {
    add('artifacts-with-subject', 'Artifacts with Subject', (td) => {
      const subject = td.desc.get(genManifestFull(td, { tag: 'image' }))!;
      genManifestFull(td, { subject });
      genManifestFull(td, referrerOpts(MT_EXAMPLE_1, MT_EXAMPLE_1, subject, 'tagged-artifact1'));
      genManifestFull(td, referrerOpts(MT_EXAMPLE_2, MT_OCTET, subject, 'tagged-artifact2'));
    });
  }
  if (cfg.subjectList) {
    add('index-with-subject', 'Index with Subject', (td) => {
      const subject = td.desc.get(genIndexFull(td, { tag: 'index' }))!;
      genIndexFull(td, referrerOpts(MT_EXAMPLE_1, MT_EXAMPLE_1, subject, 'tagged-artifact'));
    });
  }
  if (cfg.subjectMissing) {
    add('missing-subject', 'Missing Subject', (td) => {
      const subject: Desc = { mediaType: MediaType.OciManifest, digest: digestOf('missing content'), size: 123 };
      genManifestFull(td, referrerOpts(MT_EXAMPLE_1, MT_EXAMPLE_1, subject, 'tagged-artifact'));
    });
  }
  if (cfg.dataField) add('data-field', 'Data Field', (td) => genManifestFull(td, { tag: 'data-field', setData: true }));
  if (cfg.nondistributable) {
    add('non-distributable-layers', 'Non-distributable Layers', (td) => {
      const d1 = digestOf(randomBytes(256));
      const d2 = digestOf(randomBytes(256));
      const layers: Desc[] = [
        { mediaType: MediaType.OciLayerNondistributableGzip, digest: d1, size: 123456, urls: [`https://store.example.com/blobs/sha256/${d1.slice(7)}`] },
        { mediaType: MediaType.OciLayerNondistributable, digest: d2, size: 12345, urls: [`https://store.example.com/blobs/sha256/${d2.slice(7)}`] },
      ];
      const normal = genLayer(td, 1, {});
      layers.push(td.desc.get(normal.digest)!);
      const config = genConfig(td, amd64, [digestOf(randomBytes(256)), d2, normal.diffId], {});
      genManifest(td, td.desc.get(config)!, layers, { tag: 'non-distributable-image' });
    });
  }
  if (cfg.customFields) add('custom-fields', 'Custom Fields', (td) => genIndexFull(td, { tag: 'custom-fields', extraField: true }));
  if (cfg.noLayers) add('no-layers', 'No Layers', (td) => genManifestFull(td, { tag: 'no-layers', layerCount: 0 }));
  // Non-canonical digests need tag parameters to be tagged, so this one is pushed by digest only.
  if (cfg.sha512) add('sha512', 'Digest Algorithm sha512', (td) => genIndexFull(td, { algo: 'sha512' }));
  for (const algo of cfg.tagParam ? (['sha256', 'sha512'] as const) : []) {
    if (algo === 'sha512' && !cfg.sha512) continue;
    add(`tag-param-${algo}`, algo === 'sha256' ? 'Tag Param' : 'Tag Param sha512', (td) => {
      genIndexFull(td, { tag: `tag-param-${algo}`, algo });
      td.order.forEach((digest, i) => {
        td.tags.set(`tag-param-${algo}-${i}`, digest);
        td.flags.set(digest, { tagParam: true });
      });
    });
  }
  add('bad-digest-image', 'Bad Digest Image', (td) => {
    const digest = genManifestFull(td);
    td.flags.set(digest, { badDigest: true });
    // trailing whitespace: same JSON, different digest
    td.manifests.set(digest, Buffer.concat([td.manifests.get(digest)!, Buffer.from('  ')]));
  });
  return sets;
}
