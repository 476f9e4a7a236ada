import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseNormalizedNamed, type ImageReference } from '../../oci/reference.js';
import type { Store } from '../../store/store.js';
import { listRegistryTags, type RegistryOptions } from '../../transports/docker/index.js';
import { BerthError } from '../../util/errors.js';
import { copyImage, type MultiArch } from './copy.js';
import type { TrustOptions } from './admission.js';

/**
 * skopeo sync: every tag of repositories (or the tags a YAML file lists) copied to a registry or,
 * to directories: skopeo's `dir:` trees (one per image) or one OCI layout per repository (tags as ref names).
 */

export interface SyncSource {
  ref: ImageReference;
  /** Tags to copy; undefined: every tag the registry lists (or the reference's own tag). */
  tags?: string[];
  tagPattern?: RegExp;
  options: RegistryOptions;
}

interface YamlRegistry {
  images?: Record<string, string[] | null>;
  'images-by-tag-regex'?: Record<string, string>;
  credentials?: { username?: string; password?: string };
  'tls-verify'?: boolean;
  'cert-dir'?: string;
}

/** skopeo's sync YAML: registries, each with images (all tags, or a list) and images-by-tag-regex. */
export function parseSyncYaml(text: string, base: RegistryOptions = {}): SyncSource[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new BerthError('USAGE', `sync YAML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BerthError('USAGE', 'sync YAML: expected a mapping of registries');
  const out: SyncSource[] = [];
  for (const [registry, raw] of Object.entries(doc as Record<string, YamlRegistry>)) {
    if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw)))
      throw new BerthError('USAGE', `sync YAML: ${registry}: expected a mapping (images, images-by-tag-regex, credentials, tls-verify)`);
    const conf = raw ?? {};
    const options: RegistryOptions = {
      ...base,
      ...(conf['tls-verify'] !== undefined ? { tlsVerify: conf['tls-verify'] } : {}),
      ...(conf['cert-dir'] ? { certDir: conf['cert-dir'] } : {}),
      ...(conf.credentials?.username ? { creds: { username: conf.credentials.username, password: conf.credentials.password ?? '' } } : {}),
    };
    for (const [image, tags] of Object.entries(conf.images ?? {})) {
      const ref = parseNormalizedNamed(`${registry}/${image}`);
      out.push({ ref, ...(tags && tags.length > 0 ? { tags: tags.map(String) } : {}), options });
    }
    for (const [image, pattern] of Object.entries(conf['images-by-tag-regex'] ?? {})) {
      let tagPattern: RegExp;
      try {
        tagPattern = new RegExp(pattern);
      } catch (e) {
        throw new BerthError('USAGE', `sync YAML: ${registry}/${image}: bad tag regex ${pattern}`, { cause: e });
      }
      out.push({ ref: parseNormalizedNamed(`${registry}/${image}`), tagPattern, options });
    }
  }
  return out;
}

export interface SyncOptions {
  destination: string;
  /** docker: DESTINATION/REPO:TAG in a registry; oci: one layout per repository, tags as ref names; dir: a skopeo dir: tree per image, DESTINATION/REPO:TAG. */
  destKind: 'docker' | 'oci' | 'dir';
  destOptions: RegistryOptions;
  /** Keep the source's whole repository path under the destination (skopeo's --scoped), not only its last part. */
  scoped?: boolean;
  preserveDigests?: boolean;
  /** skopeo sync's --remove-signatures: leave each image's signatures behind (without it they go with it, as copy's). */
  removeSignatures?: boolean;
  /** skopeo sync's --all (or --multi-arch): copy indexes whole. */
  multiArch?: MultiArch;
  onImage?: (from: string, to: string) => void;
  /** The trust policy each source image is checked against (skopeo's --policy, --registries.d). */
  trust?: TrustOptions;
}

/** Copies every source image; returns how many images were copied. */
export async function syncImages(store: Store, sources: SyncSource[], opts: SyncOptions): Promise<number> {
  let copied = 0;
  for (const src of sources) {
    let tags = src.tags ?? (src.ref.tag && !src.tagPattern ? [src.ref.tag] : await listRegistryTags(src.ref, src.options));
    if (src.tagPattern) tags = tags.filter((t) => src.tagPattern!.test(t));
    const repoName = opts.scoped ? `${src.ref.domain}/${src.ref.path}` : src.ref.path.split('/').at(-1)!;
    for (const tag of tags) {
      const from = `docker://${src.ref.domain}/${src.ref.path}:${tag}`;
      const to =
        opts.destKind === 'docker'
          ? `docker://${opts.destination.replace(/\/+$/, '')}/${repoName}:${tag}`
          : opts.destKind === 'dir'
            ? `dir:${join(opts.destination, `${repoName}:${tag}`)}`
            : `oci:${join(opts.destination, repoName)}:${tag}`;
      await copyImage(store, from, to, {
        source: src.options,
        dest: opts.destOptions,
        ...(opts.preserveDigests ? { preserveDigests: true } : {}),
        ...(opts.removeSignatures ? { removeSignatures: true } : {}),
        ...(opts.multiArch ? { multiArch: opts.multiArch } : {}),
        ...(opts.trust ? { trust: opts.trust } : {}),
      });
      opts.onImage?.(from, to);
      copied++;
    }
  }
  return copied;
}
