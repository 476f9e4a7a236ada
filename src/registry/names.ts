// The grammar of repository names, tags and digests in URLs (distribution-spec "Pulling manifests").
import { parseDigest } from '../oci/digest.js';
import { RegistryError } from './errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** The reference implementation's limit, so that host plus name still fit in 255 characters. */
export const MAX_NAME_LENGTH = 255;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

export function nameInvalid(name: string): RegistryError {
  return new RegistryError('NAME_INVALID', `invalid repository name "${name}"`, { detail: { name } });
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** A digest from a URL or query: DIGEST_INVALID when malformed or of an unsupported algorithm. */
export function checkDigest(s: string): string {
  try {
    parseDigest(s);
    return s;
  } catch (e) {
    throw new RegistryError('DIGEST_INVALID', (e as Error).message, { detail: { digest: s } });
  }
}

export type ManifestReference = { kind: 'digest'; digest: string } | { kind: 'tag'; tag: string };

/** A manifest reference: a digest when it has a colon, else a tag. */
export function parseReference(ref: string, badTag: 'MANIFEST_INVALID' | 'MANIFEST_UNKNOWN' = 'MANIFEST_INVALID'): ManifestReference {
  if (ref.includes(':')) return { kind: 'digest', digest: checkDigest(ref) };
  if (!isValidTag(ref)) throw new RegistryError(badTag, `invalid tag "${ref}"`, { detail: { tag: ref } });
  return { kind: 'tag', tag: ref };
}
