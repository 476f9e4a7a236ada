/**
 * A requirement's `signedIdentity`: which docker reference a signature may claim for the image
 * being checked (containers/image `policy_reference_match.go`). References are normalised by
 * berth's own parser, as ParseNormalizedNamed does: `busybox` is `docker.io/library/busybox`.
 * Every matcher is false, never an error, when either reference does not parse.
 */
import { ANCHORED_DOMAIN, ANCHORED_NAME, formatReference, parseNamed, parseNormalizedNamed, referenceName, type ImageReference } from '../oci/reference.js';

export type SignedIdentity =
  /** The signature names exactly the image's reference (tag or digest included). */
  | { type: 'matchExact' }
  /** As matchExact for a tagged image; for an image pulled by digest, any reference in its repository. The default. */
  | { type: 'matchRepoDigestOrExact' }
  /** The same repository, whatever the tag or digest. */
  | { type: 'matchRepository' }
  /** The signature names exactly this reference, whatever the image is called. */
  | { type: 'exactReference'; dockerReference: string }
  /** The signature names this repository, whatever the image is called. */
  | { type: 'exactRepository'; dockerRepository: string }
  /** The image's name with `prefix` replaced by `signedPrefix`, then matchRepoDigestOrExact (mirrors). */
  | { type: 'remapIdentity'; prefix: string; signedPrefix: string };

/** The default of `signedBy` and `sigstoreSigned` when the policy names none. */
export const DEFAULT_SIGNED_IDENTITY: SignedIdentity = Object.freeze({ type: 'matchRepoDigestOrExact' });

function parse(s: string | undefined): ImageReference | undefined {
  if (s === undefined) return undefined;
  try {
    return parseNormalizedNamed(s);
  } catch {
    return undefined;
  }
}

const isNameOnly = (r: ImageReference) => r.tag === undefined && r.digest === undefined;

function exact(a: ImageReference, b: ImageReference): boolean {
  // Exact means exact: no default tag is added to either side.
  return !isNameOnly(a) && !isNameOnly(b) && formatReference(a) === formatReference(b);
}

function repoDigestOrExact(intended: ImageReference, signature: ImageReference): boolean {
  if (isNameOnly(signature)) return false;
  if (intended.tag !== undefined) return formatReference(signature) === formatReference(intended);
  // By digest: the signature's own digest is checked against the manifest elsewhere, so any
  // reference in the same repository is the image's.
  if (intended.digest !== undefined) return referenceName(signature) === referenceName(intended);
  return false;
}

/** containers/image `refMatchesPrefix`: the repository name equals `prefix` or continues it at a '/'. */
export function refMatchesPrefix(ref: ImageReference, prefix: string): boolean {
  const name = referenceName(ref);
  if (name.length < prefix.length) return false;
  if (name.length === prefix.length) return name === prefix;
  return name.startsWith(prefix) && name[prefix.length] === '/';
}

/**
 * `ref` with `prefix` replaced by `signedPrefix` when it matches, else `ref` itself. The result
 * must be a canonical reference (throws a BerthError when it is not).
 */
export function remapReferencePrefix(ref: ImageReference, prefix: string, signedPrefix: string): ImageReference {
  if (!refMatchesPrefix(ref, prefix)) return ref;
  return parseNamed(signedPrefix + formatReference(ref).slice(prefix.length));
}

const DOMAIN = ANCHORED_DOMAIN.source.slice(1, -1);
const DOMAIN_THEN_SLASH = new RegExp(`^${DOMAIN}/`);

/**
 * Whether `s` may be a remapIdentity prefix: a registry host[:port], or a repository name that
 * starts with one. (Like upstream, a short name such as `busybox` is not caught here; it simply
 * never matches a normalised reference.)
 */
export function isValidRemapPrefix(s: string): boolean {
  return ANCHORED_DOMAIN.test(s) || (ANCHORED_NAME.test(s) && DOMAIN_THEN_SLASH.test(s));
}

/**
 * Whether a signature claiming `signatureReference` is accepted by `rule` for an image whose
 * docker reference is `imageReference` (undefined when it has none: only exactReference and
 * exactRepository can accept such an image).
 */
export function matchesSignedIdentity(rule: SignedIdentity, imageReference: string | undefined, signatureReference: string): boolean {
  const signature = parse(signatureReference);
  if (!signature) return false;
  switch (rule.type) {
    case 'exactReference': {
      const intended = parse(rule.dockerReference);
      return intended !== undefined && exact(intended, signature);
    }
    case 'exactRepository': {
      const intended = parse(rule.dockerRepository);
      return intended !== undefined && referenceName(intended) === referenceName(signature);
    }
    default:
      break;
  }
  const intended = parse(imageReference);
  if (!intended) return false;
  switch (rule.type) {
    case 'matchExact':
      return exact(intended, signature);
    case 'matchRepoDigestOrExact':
      return repoDigestOrExact(intended, signature);
    case 'matchRepository':
      return referenceName(intended) === referenceName(signature);
    case 'remapIdentity': {
      let remapped: ImageReference;
      try {
        remapped = remapReferencePrefix(intended, rule.prefix, rule.signedPrefix);
      } catch {
        return false;
      }
      return repoDigestOrExact(remapped, signature);
    }
  }
}
