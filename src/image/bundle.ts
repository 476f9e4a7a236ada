/** Index-level changes for copies of every platform: children rewritten, the index following them. */
import { digestOf } from '../oci/digest.js';
import { MediaType, type ManifestFormat } from '../oci/mediatypes.js';
import { parseManifest, rewriteIndex, toDockerManifest, toOciManifest, type ChildReplacement } from '../oci/manifest.js';
import { BerthError } from '../util/errors.js';
import type { Image, ImageIndexBundle, ManifestBlob } from './image.js';

/**
 * Applies `change` to every child (in order) and rewrites the index to name the results. When no child changed
 * and no index format is asked for (or it is the index's own), the index keeps its exact bytes, so its digest.
 */
export async function mapChildren(bundle: ImageIndexBundle, change: (child: Image) => Promise<Image>, indexFormat?: ManifestFormat): Promise<ImageIndexBundle> {
  const children: Image[] = [];
  const replacements = new Map<string, ChildReplacement>();
  for (const child of bundle.children) {
    const next = await change(child);
    children.push(next);
    if (next.manifest.digest !== child.manifest.digest) {
      replacements.set(child.manifest.digest, { digest: next.manifest.digest, size: next.manifest.bytes.length, mediaType: next.manifest.mediaType });
    }
  }
  const own: ManifestFormat = bundle.index.mediaType === MediaType.DockerManifestList ? 'docker' : 'oci';
  if (replacements.size === 0 && (indexFormat === undefined || indexFormat === own)) return { index: bundle.index, children };
  const parsed = parseManifest(bundle.index.bytes, bundle.index.mediaType);
  if (parsed.kind !== 'index') throw new BerthError('INTERNAL', 'expected an image index');
  const { index, mediaType } = rewriteIndex(parsed.index, parsed.mediaType, replacements, indexFormat);
  const bytes = Buffer.from(JSON.stringify(index));
  const blob: ManifestBlob = { bytes, mediaType, digest: digestOf(bytes) };
  return { index: blob, children };
}

/** The image with its manifest in `format` (the same Image when it already is). Config bytes never change. */
export function imageAs(image: Image, format: ManifestFormat): Image {
  const want = format === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
  if (image.manifest.mediaType === want) return image;
  const parsed = parseManifest(image.manifest.bytes, image.manifest.mediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('INTERNAL', 'expected an image manifest');
  const converted = format === 'oci' ? toOciManifest(parsed.manifest) : toDockerManifest(parsed.manifest);
  const bytes = Buffer.from(JSON.stringify(converted));
  const layers = image.layers.map((l, i) => {
    const d = converted.layers[i]!;
    return d.mediaType === l.mediaType ? l : { ...l, mediaType: d.mediaType, blob: () => l.blob(), tar: () => l.tar() };
  });
  const { index: _stale, ...rest } = image;
  return { ...rest, manifest: { bytes, mediaType: want, digest: digestOf(bytes) }, config: { ...image.config, mediaType: converted.config.mediaType }, layers };
}

/** The bundle as OCI layouts hold it: OCI manifests under an OCI index (a Docker list is converted, so re-digested). */
export function bundleAsOci(bundle: ImageIndexBundle): Promise<ImageIndexBundle> {
  return mapChildren(bundle, async (c) => imageAs(c, 'oci'), 'oci');
}
