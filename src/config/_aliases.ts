import { parseNormalizedNamed, parseReference, type ImageReference } from '../oci/reference.js';

/** One `[aliases]` entry; `value` undefined means an empty right-hand side, which cancels earlier ones. */
export interface AliasEntry {
  value: ImageReference | undefined;
  /** The file that set it. */
  origin: string;
}

/** The first component names a registry: it holds '.' or ':' or is 'localhost' (as upstream). */
export function isRegistryDomain(domain: string): boolean {
  return /[.:]/.test(domain) || domain === 'localhost';
}

function parseOrProblem(s: string): ImageReference | string {
  try {
    return parseReference(s);
  } catch (e) {
    return (e as Error).message;
  }
}

/** containers/image `validateShortName`: a short repository name, no tag, no digest. Returns the problem, if any. */
export function shortNameProblem(name: string): string | undefined {
  const r = parseOrProblem(name);
  if (typeof r === 'string') return `cannot parse short name "${name}": ${r}`;
  if (r.digest !== undefined) return `invalid short name "${name}": must not contain digest`;
  if (r.tag !== undefined) return `invalid short name "${name}": must not contain tag`;
  if (isRegistryDomain(r.domain)) return `invalid short name "${name}": must not contain registry`;
  return undefined;
}

/** containers/image `parseShortNameValue`: an alias value names registry and repository, no tag or digest. */
export function parseAliasValue(value: string): ImageReference | string {
  const r = parseOrProblem(value);
  if (typeof r === 'string') return `parsing alias "${value}": ${r}`;
  if (r.digest !== undefined) return `invalid alias "${value}": must not contain digest`;
  if (r.tag !== undefined) return `invalid alias "${value}": must not contain tag`;
  if (!isRegistryDomain(r.domain)) return `invalid alias "${value}": must contain registry and repository`;
  return parseNormalizedNamed(value);
}
