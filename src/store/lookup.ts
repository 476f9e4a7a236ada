import { isDigest } from '../oci/digest.js';
import { formatReference, isFullyQualified, parseNormalizedNamed, referenceName, withDefaultTag, type ImageReference } from '../oci/reference.js';
import { BerthError } from '../util/errors.js';
import type { ImageRecord } from './images.js';

/**
 * The name a short reference gets when berth creates it (tag, import, build, commit): like
 * podman, an unqualified name lands under localhost/ instead of claiming to be from Docker Hub.
 */
export function localName(input: string): ImageReference {
  const named = parseNormalizedNamed(isFullyQualified(input) ? input : `localhost/${input}`);
  return withDefaultTag(named);
}

/** A full name as stored: `registry/repo:tag`. */
export function storedName(input: string): string {
  return formatReference(localName(input));
}

function hexOf(id: string): string {
  return id.startsWith('sha256:') ? id.slice(7) : id;
}

/**
 * Finds a local image as podman does: by full ID, unique ID prefix (with or without `sha256:`),
 * by a name exactly, by `name@digest`, and a short name against localhost/ and docker.io first and
 * then against any stored repository whose path ends the same way.
 */
export function findImage(images: readonly ImageRecord[], input: string): ImageRecord | undefined {
  const lowered = input.startsWith('sha256:') ? input.slice(7) : input;
  if (/^[a-f0-9]{3,64}$/.test(lowered)) {
    const byId = images.filter((i) => hexOf(i.id).startsWith(lowered));
    if (byId.length === 1) return byId[0];
    if (byId.length > 1 && lowered.length < 64) {
      throw new BerthError('IMAGE_UNKNOWN', `image ID prefix "${input}" is ambiguous: it matches ${byId.length} images`);
    }
    if (byId.length > 0) return byId[0];
    if (input.startsWith('sha256:')) return undefined;
  }
  if (isDigest(input)) return images.find((i) => i.digests.includes(input));

  let ref: ImageReference;
  try {
    ref = parseNormalizedNamed(input);
  } catch (e) {
    if (/^[a-f0-9]{3,64}$/.test(lowered)) return undefined;
    throw e;
  }
  if (ref.digest) {
    const name = referenceName(ref);
    return (
      images.find((i) => i.digests.includes(ref.digest!) && i.names.some((n) => n.startsWith(`${name}:`) || n.startsWith(`${name}@`))) ??
      images.find((i) => i.digests.includes(ref.digest!))
    );
  }
  const tagged = formatReference(withDefaultTag(ref));
  const exact = images.find((i) => i.names.includes(tagged));
  if (exact || isFullyQualified(input)) return exact;
  // A short name: localhost/NAME first (what berth itself creates), then the docker.io
  // normalization above, then any registry's repository with the same path.
  const local = formatReference(localName(input));
  const viaLocal = images.find((i) => i.names.includes(local));
  if (viaLocal) return viaLocal;
  const tail = formatReference(withDefaultTag(ref))
    .slice(ref.domain.length + 1)
    .replace(/^library\//, '');
  const suffix = `/${tail}`;
  return images.find((i) => i.names.some((n) => n.endsWith(suffix)));
}

/**
 * Which of `image`'s names `input` (a name as a user gives it) finds it by, with findImage's rules;
 * undefined when it is an ID, a digest or no name of this image. podman shows a container's image
 * by the name it was created from (a second tag of the image, too).
 */
export function matchedName(image: ImageRecord, input: string): string | undefined {
  let ref: ImageReference;
  try {
    ref = parseNormalizedNamed(input);
  } catch {
    return undefined;
  }
  if (ref.digest) return undefined;
  const tagged = formatReference(withDefaultTag(ref));
  if (image.names.includes(tagged)) return tagged;
  if (isFullyQualified(input)) return undefined;
  const local = formatReference(localName(input));
  if (image.names.includes(local)) return local;
  const tail = tagged.slice(ref.domain.length + 1).replace(/^library\//, '');
  return image.names.find((n) => n.endsWith(`/${tail}`));
}

export function requireImage(images: readonly ImageRecord[], input: string): ImageRecord {
  const found = findImage(images, input);
  if (!found) throw new BerthError('IMAGE_UNKNOWN', `${input}: image not known`);
  return found;
}
