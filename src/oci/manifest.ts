// The manifest model: OCI image manifests and indexes, Docker schema 2 manifests and manifest lists, image configs.
// Parsing never re-serialises: a manifest's identity is its exact bytes, which the caller keeps beside the parsed view.
import { BerthError } from '../util/errors.js';
import { decodeJSON, formatIssues, isObject } from './_check.js';
import {
  convertLayerMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  MediaType,
  type LayerCompression,
  type ManifestFormat,
} from './mediatypes.js';
import { validate } from './schema.js';

/** A platform as written in an index entry (`os.version`, `os.features`; Docker lists may add `features`). */
export interface DescriptorPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  /** Embedded content, base64. */
  data?: string;
  platform?: DescriptorPlatform;
  artifactType?: string;
}

/** An OCI image manifest or a Docker schema 2 manifest (same shape; Docker has no annotations or subject). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An OCI image index or a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The `config` section of an image config: how to run it. Docker's extra fields pass through unchecked. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: unknown;
  OnBuild?: unknown;
  Shell?: unknown;
  [extra: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** An OCI image config (Docker's container config is a superset; its extra fields are kept as they are). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  [extra: string]: unknown;
}

export type ParsedManifest = { kind: 'manifest'; mediaType: string; manifest: ImageManifest } | { kind: 'index'; mediaType: string; index: ImageIndex };

/**
 * The media type of a manifest from its content, as containers/image's GuessMIMEType: the `mediaType` field when
 * it names a manifest or index type, else schema 1 (signed or not) by `schemaVersion`, else for schema 2 the
 * structure (config media type, a non-empty `manifests`). "" when it cannot tell (not JSON, unknown version).
 */
export function guessManifestMediaType(data: Uint8Array | string): string {
  const decoded = decodeJSON(data);
  return 'error' in decoded ? '' : guess(decoded.value);
}

function guess(doc: unknown): string {
  if (!isObject(doc)) return '';
  const mediaType = doc.mediaType ?? '';
  const version = doc.schemaVersion ?? 0;
  if (typeof mediaType !== 'string' || typeof version !== 'number') return '';
  if (isManifestMediaType(mediaType) || isIndexMediaType(mediaType)) return mediaType;
  if (version === 1) return doc.signatures != null ? MediaType.DockerSchema1SignedManifest : MediaType.DockerSchema1Manifest;
  if (version !== 2) return '';
  const config = doc.config ?? {};
  if (!isObject(config)) return '';
  const configType = config.mediaType ?? '';
  if (typeof configType !== 'string') return '';
  if (configType === MediaType.OciConfig) return MediaType.OciManifest;
  if (configType === MediaType.DockerConfig) return MediaType.DockerManifest;
  const manifests = doc.manifests ?? [];
  if (!Array.isArray(manifests)) return '';
  if (manifests.length > 0) return configType === '' ? MediaType.OciIndex : configType;
  return MediaType.OciManifest; // most likely an artifact with its own config type
}

/** Content types that say nothing about the manifest format: the content decides. */
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream', 'binary/octet-stream']);

const SCHEMA1 =
  'Docker schema1 manifests are not supported: the format was deprecated in 2017 and registries stopped serving it; ' +
  'push the image again with a current tool to get a schema 2 or OCI manifest';

/** Fields that identify a format; a document with another format's fields is ambiguous and refused. */
const FORMAT_FIELDS = ['config', 'layers', 'manifests', 'fsLayers', 'history'];
const ALLOWED_FIELDS = { manifest: ['config', 'layers'], index: ['manifests'] };

/**
 * Parses and validates a manifest or index. `declaredMediaType` is what the source said (a registry's
 * Content-Type, an index entry's mediaType); without one, or with a generic one, the content decides.
 * Schema 1 and unknown formats are refused (MANIFEST_UNSUPPORTED); bad JSON or schema violations are
 * MANIFEST_INVALID with the first problems named. The result is a view: keep `bytes` for digests and copies.
 */
export function parseManifest(bytes: Uint8Array, declaredMediaType?: string): ParsedManifest {
  const decoded = decodeJSON(bytes);
  if ('error' in decoded) throw new BerthError('MANIFEST_INVALID', `invalid manifest: ${decoded.error}`);
  const doc = decoded.value;
  if (isObject(doc) && doc.schemaVersion === 1) throw new BerthError('MANIFEST_UNSUPPORTED', SCHEMA1);

  const declared = (declaredMediaType ?? '').split(';')[0]!.trim().toLowerCase();
  let mediaType: string;
  if (isManifestMediaType(declared) || isIndexMediaType(declared)) mediaType = declared;
  else if (isSchema1MediaType(declared)) throw new BerthError('MANIFEST_UNSUPPORTED', SCHEMA1);
  else if (!GENERIC_TYPES.has(declared)) throw new BerthError('MANIFEST_UNSUPPORTED', `unsupported manifest media type "${declaredMediaType}"`);
  else if (isObject(doc) && typeof doc.mediaType === 'string' && doc.mediaType !== '') {
    // the document names its own type: take it if berth knows it
    if (isSchema1MediaType(doc.mediaType)) throw new BerthError('MANIFEST_UNSUPPORTED', SCHEMA1);
    if (!isManifestMediaType(doc.mediaType) && !isIndexMediaType(doc.mediaType)) {
      throw new BerthError('MANIFEST_UNSUPPORTED', `unsupported manifest media type "${doc.mediaType}"`);
    }
    mediaType = doc.mediaType;
  } else mediaType = guess(doc);
  if (!isManifestMediaType(mediaType) && !isIndexMediaType(mediaType)) throw new BerthError('MANIFEST_UNSUPPORTED', unrecognised(doc));
  const kind = isIndexMediaType(mediaType) ? 'index' : 'manifest';

  if (isObject(doc)) {
    if (typeof doc.mediaType === 'string' && doc.mediaType !== mediaType) {
      throw new BerthError('MANIFEST_INVALID', `invalid manifest: it says its mediaType is "${doc.mediaType}" but it was given as "${mediaType}"`);
    }
    const allowed = ALLOWED_FIELDS[kind];
    const foreign = Object.keys(doc).filter((k) => FORMAT_FIELDS.some((f) => f.toLowerCase() === k.toLowerCase() && !allowed.includes(f)));
    if (foreign.length > 0) {
      const what = describe(mediaType);
      throw new BerthError(
        'MANIFEST_INVALID',
        `invalid manifest: ${/^[AEIOU]/.test(what) ? 'an' : 'a'} ${what} cannot have ${foreign.map((f) => `"${f}"`).join(', ')}`,
      );
    }
  }
  const issues = validate(kind, doc, { allowEmptyLayers: true });
  if (issues.length > 0) throw new BerthError('MANIFEST_INVALID', `invalid ${describe(mediaType)}: ${formatIssues(issues)}`);

  if (kind === 'index') return { kind, mediaType, index: doc as ImageIndex };
  const manifest = doc as ImageManifest;
  if (mediaType === MediaType.DockerManifest) {
    manifest.layers.forEach((l, i) => {
      if (!DOCKER_LAYERS.has(l.mediaType)) {
        throw new BerthError('MANIFEST_UNSUPPORTED', `Docker schema 2 manifest: layer ${i} has unsupported media type "${l.mediaType}"`);
      }
    });
  }
  return { kind, mediaType, manifest };
}

const DOCKER_LAYERS = new Set<string>([
  MediaType.DockerLayerGzip,
  MediaType.DockerLayerUncompressed,
  MediaType.DockerForeignLayer,
  MediaType.DockerForeignLayerGzip,
]);

function describe(mediaType: string): string {
  switch (mediaType) {
    case MediaType.OciManifest:
      return 'OCI image manifest';
    case MediaType.OciIndex:
      return 'OCI image index';
    case MediaType.DockerManifest:
      return 'Docker schema 2 manifest';
    default:
      return 'Docker manifest list';
  }
}

function unrecognised(doc: unknown): string {
  if (!isObject(doc)) return 'unrecognised manifest format: the document is not a JSON object';
  const parts: string[] = [];
  if (doc.mediaType !== undefined) parts.push(`mediaType ${JSON.stringify(doc.mediaType)}`);
  parts.push(doc.schemaVersion === undefined ? 'no schemaVersion' : `schemaVersion ${JSON.stringify(doc.schemaVersion)}`);
  return `unrecognised manifest format (${parts.join(', ')})`;
}

/** Parses and validates an image config blob (OCI or Docker); problems are CONFIG_INVALID. */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const decoded = decodeJSON(bytes);
  if ('error' in decoded) throw new BerthError('CONFIG_INVALID', `invalid image config: ${decoded.error}`);
  const issues = validate('config', decoded.value);
  if (issues.length > 0) throw new BerthError('CONFIG_INVALID', `invalid image config: ${formatIssues(issues)}`);
  return decoded.value as ImageConfig;
}

// ---- conversion ------------------------------------------------------------------------------------------------

export interface ConvertOptions {
  /** The config blob's new digest and size, when converting the manifest came with rewriting the config. */
  config?: { digest: string; size: number };
}

/**
 * The Docker schema 2 form of an image manifest, as containers/image converts it: media types of the manifest,
 * config and layers mapped; urls kept; annotations, subject, artifactType and embedded data dropped (schema 2 has
 * none). Refused (MANIFEST_UNSUPPORTED): artifacts (config not an image config), zstd, encrypted or unknown layers.
 */
export function toDockerManifest(m: ImageManifest, opts: ConvertOptions = {}): ImageManifest {
  return convert(m, 'docker', opts);
}

/**
 * The OCI form of a Docker schema 2 manifest: media types mapped (foreign layers become nondistributable ones),
 * urls kept. An OCI manifest comes back as an equal copy (with opts.config applied).
 */
export function toOciManifest(m: ImageManifest, opts: ConvertOptions = {}): ImageManifest {
  return convert(m, 'oci', opts);
}

function convert(m: ImageManifest, to: ManifestFormat, opts: ConvertOptions): ImageManifest {
  const target = to === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
  const fail = (why: string): never => {
    throw new BerthError('MANIFEST_UNSUPPORTED', `cannot convert the manifest to ${to === 'oci' ? 'OCI' : 'Docker schema 2'}: ${why}`);
  };
  if (formatOf(m) === to) {
    const copy = structuredClone(m);
    if (opts.config) copy.config = { ...copy.config, ...opts.config };
    return copy;
  }
  if (to === 'docker' && m.config.mediaType !== MediaType.OciConfig && m.config.mediaType !== MediaType.DockerConfig) {
    fail(`it is not an image (config media type "${m.config.mediaType}")`);
  }
  const config = descriptor(to, { ...m.config, ...opts.config }, to === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig);
  const layers = m.layers.map((l, i) => {
    let mediaType = '';
    try {
      mediaType = convertLayerMediaType(l.mediaType, to);
    } catch (e) {
      fail(`layer ${i}: ${(e as Error).message}`);
    }
    return descriptor(to, l, mediaType);
  });
  return { schemaVersion: 2, mediaType: target, config, layers };
}

/** A manifest's format from its mediaType; without one (allowed in both), from its config and layer media types. */
function formatOf(m: ImageManifest): ManifestFormat {
  if (m.mediaType === MediaType.DockerManifest) return 'docker';
  if (m.mediaType !== undefined) return 'oci';
  const docker = [m.config, ...m.layers].some((d) => d.mediaType.startsWith('application/vnd.docker.'));
  return docker ? 'docker' : 'oci';
}

/** The fields both formats share, in the order each format's own tools write them. */
function descriptor(to: ManifestFormat, d: Descriptor, mediaType: string): Descriptor {
  const urls = d.urls ? { urls: [...d.urls] } : {};
  return to === 'oci' ? { mediaType, digest: d.digest, size: d.size, ...urls } : { mediaType, size: d.size, digest: d.digest, ...urls };
}

/** A layer's blob after it was rewritten (recompressed): its new digest, size and compression. */
export interface LayerReplacement {
  digest: string;
  size: number;
  compression: LayerCompression;
}

/**
 * The manifest in format `to` with some layers' blobs replaced (index-aligned; undefined keeps a layer). A replaced
 * layer's media type says its new compression (nondistributable stays nondistributable); urls and annotations are
 * kept where the format has them. The config is untouched: the uncompressed content, so the diff IDs, is the same.
 * zstd has no Docker schema 2 media type: asking for Docker with a zstd layer is MANIFEST_UNSUPPORTED.
 */
export function withLayers(m: ImageManifest, replacements: readonly (LayerReplacement | undefined)[], to: ManifestFormat): ImageManifest {
  const out = convert(m, to, {});
  out.layers = out.layers.map((l, i) => {
    const r = replacements[i];
    if (!r) return l;
    let mediaType = '';
    try {
      mediaType = convertLayerMediaType(m.layers[i]!.mediaType, to, r.compression);
    } catch (e) {
      throw new BerthError('MANIFEST_UNSUPPORTED', `layer ${i}: ${(e as Error).message}`, { cause: e });
    }
    return { ...l, mediaType, digest: r.digest, size: r.size };
  });
  return out;
}

/** A child of an index after a copy: the descriptor's new digest, size and media type (the platform is kept). */
export interface ChildReplacement {
  digest: string;
  size: number;
  mediaType: string;
}

/**
 * The index with some children replaced (keyed by their old digest), as containers/image updates a list after
 * converting its instances: platform, annotations and the rest of each descriptor kept. When `to` is 'oci' (or a
 * child became an OCI manifest) a Docker manifest list becomes an OCI index, since a list may only name Docker
 * manifests. The result has new bytes and so a new digest; with no replacement and no format change the caller
 * keeps the original bytes instead.
 */
export function rewriteIndex(
  index: ImageIndex,
  mediaType: string,
  replacements: ReadonlyMap<string, ChildReplacement>,
  to?: ManifestFormat,
): { index: ImageIndex; mediaType: string } {
  const manifests = index.manifests.map((d) => {
    const r = replacements.get(d.digest);
    return r ? { ...d, mediaType: r.mediaType, digest: r.digest, size: r.size } : { ...d };
  });
  const needsOci = to === 'oci' || manifests.some((d) => d.mediaType === MediaType.OciManifest || d.mediaType === MediaType.OciIndex);
  if (to === 'docker' && manifests.some((d) => d.mediaType !== MediaType.DockerManifest)) {
    throw new BerthError('MANIFEST_UNSUPPORTED', 'cannot write a Docker manifest list: it may only name Docker schema 2 manifests');
  }
  const oci = mediaType === MediaType.OciIndex || needsOci;
  if (oci) {
    const { mediaType: _m, schemaVersion: _s, manifests: _c, ...rest } = index;
    const out: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests, ...rest };
    return { index: out, mediaType: MediaType.OciIndex };
  }
  return { index: { schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests }, mediaType: MediaType.DockerManifestList };
}
