import { BerthError } from '../util/errors.js';

/**
 * The media types berth reads and writes: OCI image-spec v1.1 and Docker image manifest schema 2
 * (plus the schema 1 names, only so that they can be recognised and refused).
 */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  OciDescriptor: 'application/vnd.oci.descriptor.v1+json',
  OciLayoutHeader: 'application/vnd.oci.layout.header.v1+json',

  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Not in the Docker spec, but podman and buildah write it for uncompressed layers. */
  DockerLayerUncompressed: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',

  DockerSchema1Manifest: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1SignedManifest: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];
export type LayerCompression = 'gzip' | 'zstd' | 'none';
export type ManifestFormat = 'oci' | 'docker';

interface LayerType {
  format: ManifestFormat;
  compression: LayerCompression;
  nondistributable: boolean;
}

const LAYERS: ReadonlyMap<string, LayerType> = new Map([
  [MediaType.OciLayer, { format: 'oci', compression: 'none', nondistributable: false }],
  [MediaType.OciLayerGzip, { format: 'oci', compression: 'gzip', nondistributable: false }],
  [MediaType.OciLayerZstd, { format: 'oci', compression: 'zstd', nondistributable: false }],
  [MediaType.OciLayerNondistributable, { format: 'oci', compression: 'none', nondistributable: true }],
  [MediaType.OciLayerNondistributableGzip, { format: 'oci', compression: 'gzip', nondistributable: true }],
  [MediaType.OciLayerNondistributableZstd, { format: 'oci', compression: 'zstd', nondistributable: true }],
  [MediaType.DockerLayerUncompressed, { format: 'docker', compression: 'none', nondistributable: false }],
  [MediaType.DockerLayerGzip, { format: 'docker', compression: 'gzip', nondistributable: false }],
  [MediaType.DockerForeignLayer, { format: 'docker', compression: 'none', nondistributable: true }],
  [MediaType.DockerForeignLayerGzip, { format: 'docker', compression: 'gzip', nondistributable: true }],
]);

/** True for the layer media types berth can unpack (OCI and Docker, any of their compressions). */
export function isLayerMediaType(mediaType: string): boolean {
  return LAYERS.has(mediaType);
}

/** Nondistributable (OCI) or foreign (Docker) layers: registries may not be allowed to hold them. */
export function isNondistributable(mediaType: string): boolean {
  return LAYERS.get(mediaType)?.nondistributable ?? false;
}

function layerType(mediaType: string): LayerType {
  const t = LAYERS.get(mediaType);
  if (t) return t;
  const why = mediaType.endsWith('+encrypted') ? ' (encrypted layers are not supported)' : '';
  throw new BerthError('MANIFEST_UNSUPPORTED', `unsupported layer media type "${mediaType}"${why}`);
}

/** The compression of a layer blob, from its media type; unknown layer types are refused. */
export function layerCompression(mediaType: string): LayerCompression {
  return layerType(mediaType).compression;
}

/** The media type of a layer in `format` with `compression`; Docker has no zstd layers. */
export function layerMediaType(format: ManifestFormat, compression: LayerCompression, opts: { nondistributable?: boolean } = {}): string {
  const nd = opts.nondistributable ?? false;
  if (format === 'oci') {
    const base = nd ? MediaType.OciLayerNondistributable : MediaType.OciLayer;
    return compression === 'none' ? base : `${base}+${compression}`;
  }
  if (compression === 'zstd') throw new BerthError('MANIFEST_UNSUPPORTED', 'zstd-compressed layers cannot be written in a Docker manifest; use the OCI format');
  if (nd) return compression === 'gzip' ? MediaType.DockerForeignLayerGzip : MediaType.DockerForeignLayer;
  return compression === 'gzip' ? MediaType.DockerLayerGzip : MediaType.DockerLayerUncompressed;
}

/**
 * The media type a layer gets in the other manifest format (or the same one), keeping it nondistributable if it was.
 * `compression` is the blob's compression after the copy (default: unchanged). Docker manifests cannot carry zstd.
 */
export function convertLayerMediaType(mediaType: string, format: ManifestFormat, compression?: LayerCompression): string {
  const t = layerType(mediaType);
  return layerMediaType(format, compression ?? t.compression, { nondistributable: t.nondistributable });
}

/** OCI image index or Docker manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/** OCI image manifest or Docker schema 2 manifest (the single-image kinds berth supports). */
export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest;
}

/** Docker schema 1, signed or not: recognised only to be refused. */
export function isSchema1MediaType(mediaType: string): boolean {
  return mediaType === MediaType.DockerSchema1Manifest || mediaType === MediaType.DockerSchema1SignedManifest;
}

/** The config media types of a runnable image (OCI or Docker). */
export function isImageConfigMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciConfig || mediaType === MediaType.DockerConfig;
}

/** Which family a manifest, index, config or layer media type belongs to; undefined when neither. */
export function mediaTypeFormat(mediaType: string): ManifestFormat | undefined {
  if (mediaType.startsWith('application/vnd.oci.')) return 'oci';
  if (mediaType.startsWith('application/vnd.docker.')) return 'docker';
  return undefined;
}
