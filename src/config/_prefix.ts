import { BerthError } from '../util/errors.js';
import { formatReference, parseNamed, type ImageReference } from '../oci/reference.js';

/**
 * containers/image `refMatchingSubdomainPrefix`: `prefix` is '*.example.com'; matches when the host part
 * of `ref` ends in '.example.com'. Returns the length of the matched host, or -1.
 */
export function refMatchingSubdomainPrefix(ref: string, prefix: string): number {
  const suffix = prefix.slice(1);
  let index = ref.indexOf(suffix);
  if (index === -1) return -1;
  if (ref.slice(0, index).includes('/')) return -1;
  index += suffix.length;
  if (index === ref.length) return index;
  return ':/@'.includes(ref[index]!) ? index : -1;
}

/**
 * containers/image `refMatchingPrefix`: `ref` (a host, repository name or full reference) matches `prefix`
 * when it equals it or continues at a ':', '/' or '@' boundary. Returns the length of the match, or -1.
 * Like upstream, 'example.com:5000' matches 'example.com'.
 */
export function refMatchingPrefix(ref: string, prefix: string): number {
  if (prefix.startsWith('*.')) return refMatchingSubdomainPrefix(ref, prefix);
  if (ref.length < prefix.length) return -1;
  if (ref.length === prefix.length) return ref === prefix ? prefix.length : -1;
  if (!ref.startsWith(prefix)) return -1;
  return ':/@'.includes(ref[prefix.length]!) ? prefix.length : -1;
}

/**
 * containers/image `Endpoint.rewriteReference`: replaces the part of `ref` that matched `prefix` with
 * `location`. An empty location (allowed only for '*.' prefixes) keeps the reference as it is.
 * The result must be a valid, canonical reference.
 */
export function rewriteReference(ref: ImageReference, prefix: string, location: string): ImageReference {
  const refString = formatReference(ref);
  const matched = refMatchingPrefix(refString, prefix);
  if (matched === -1) throw new BerthError('INVALID_REFERENCE', `invalid prefix '${prefix}' for reference '${refString}'`);
  if (location === '') {
    if (!prefix.startsWith('*.')) {
      throw new BerthError('INVALID_REFERENCE', `invalid prefix '${prefix}' for empty location, should be in the format: *.example.com`);
    }
    return ref;
  }
  const rewritten = location + refString.slice(matched);
  try {
    return parseNamed(rewritten);
  } catch (e) {
    throw new BerthError('INVALID_REFERENCE', `rewriting reference ${refString} to ${rewritten}: ${(e as Error).message}`, { cause: e });
  }
}
