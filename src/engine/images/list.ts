// The images a list shows: podman's --filter for `images` (reference, dangling, id, before, since,
// label), shared by the CLI and the API.
import type { ImageRecord } from '../../store/images.js';
import { findImage } from '../../store/lookup.js';
import { BerthError } from '../../util/errors.js';
import { repoAndTag } from './records.js';

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** reference= matches the whole name or its familiar tail, as podman's filter does. */
function matchesReference(image: ImageRecord, pattern: string): boolean {
  const withTag = pattern.includes(':') && !pattern.includes('@') ? pattern : null;
  return image.names.some((name) => {
    const { repository, tag } = repoAndTag(name);
    const candidates = [name, repository];
    const parts = repository.split('/');
    for (let i = 1; i < parts.length; i++) {
      const tail = parts.slice(i).join('/');
      candidates.push(tail, `${tail}:${tag}`);
    }
    const re = globToRegExp(pattern);
    return candidates.some((c) => re.test(c)) || (withTag !== null && re.test(`${repository}:${tag}`));
  });
}

/** The images of `images` that pass every `key=value` filter; `labelsOf` reads an image's labels (only label= asks). */
export async function filterImages(
  images: ImageRecord[],
  filters: string[],
  labelsOf: (i: ImageRecord) => Promise<Record<string, string>>,
): Promise<ImageRecord[]> {
  let out = images;
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new BerthError('USAGE', `invalid image filter "${f}": must be in the format "filter=value or filter!=value"`);
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    switch (key) {
      case 'reference':
        out = out.filter((i) => matchesReference(i, value));
        break;
      case 'dangling':
        if (value !== 'true' && value !== 'false') throw new BerthError('USAGE', `invalid filter "${f}": dangling takes true or false`);
        out = out.filter((i) => (i.names.length === 0) === (value === 'true'));
        break;
      case 'id':
        out = out.filter((i) => i.id.slice(7).startsWith(value.replace(/^sha256:/, '')));
        break;
      case 'before':
      case 'after':
      case 'since': {
        const ref = findImage(images, value);
        if (!ref) throw new BerthError('IMAGE_UNKNOWN', `${value}: image not known`);
        const t = Date.parse(ref.created);
        out = out.filter((i) => (key === 'before' ? Date.parse(i.created) < t : Date.parse(i.created) > t));
        break;
      }
      case 'label': {
        const [k, v] = value.split('=', 2) as [string, string | undefined];
        const kept: ImageRecord[] = [];
        for (const i of out) {
          const labels = await labelsOf(i);
          if (k in labels && (v === undefined || labels[k] === v)) kept.push(i);
        }
        out = kept;
        break;
      }
      default:
        throw new BerthError('USAGE', `invalid filter "${key}": supported are reference, dangling, id, before, since, label`);
    }
  }
  return out;
}
