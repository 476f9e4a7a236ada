// The mark phase of registry garbage collection: which manifests of a repository live, and which blobs
// they hold. A manifest lives when it is tagged, is a child of a live index, refers (as a referrer) to a
// live subject, or was put within the grace period; without --delete-untagged every manifest lives.
import type { ManifestEntry, RegistryStorage } from './storage/types.js';

/** What one manifest names: blobs (config, layers, its own bytes) and child manifests. */
export interface ManifestRefs {
  blobs: string[];
  children: string[];
}

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function digestsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const d of list) {
    const digest = (d as { digest?: unknown; blobSum?: unknown } | null)?.digest ?? (d as { blobSum?: unknown } | null)?.blobSum;
    if (typeof digest === 'string' && DIGEST.test(digest)) out.push(digest);
  }
  return out;
}

/** The references of a manifest's bytes, read leniently: whatever parses is kept, nothing is thrown. */
export function manifestRefs(digest: string, bytes: Buffer | undefined): ManifestRefs {
  const refs: ManifestRefs = { blobs: [digest], children: [] };
  if (!bytes) return refs;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    return refs;
  }
  if (typeof doc !== 'object' || doc === null) return refs;
  refs.blobs.push(...digestsOf([doc['config']]), ...digestsOf(doc['layers']), ...digestsOf(doc['blobs']), ...digestsOf(doc['fsLayers']));
  refs.children.push(...digestsOf(doc['manifests']));
  return refs;
}

export interface RepositoryMarks {
  /** Manifests that stay, by digest. */
  live: Map<string, ManifestEntry>;
  /** Untagged manifests to remove (empty unless deleteUntagged). */
  dead: ManifestEntry[];
  /** Blobs the live manifests hold. */
  blobs: Set<string>;
}

async function allTags(storage: RegistryStorage, repository: string): Promise<string[]> {
  const tags: string[] = [];
  let last: string | undefined;
  for (;;) {
    const page = await storage.tags.list(repository, last === undefined ? { n: 1000 } : { n: 1000, last });
    if (!page) return tags;
    tags.push(...page.items);
    if (page.next === undefined) return tags;
    last = page.next;
  }
}

export async function markRepository(
  storage: RegistryStorage,
  repository: string,
  opts: { deleteUntagged: boolean; cutoff: number },
): Promise<RepositoryMarks> {
  const entries = new Map((await storage.manifests.list(repository)).map((m) => [m.digest, m]));
  const refs = new Map<string, ManifestRefs>();
  for (const digest of entries.keys()) refs.set(digest, manifestRefs(digest, (await storage.manifests.get(repository, digest))?.bytes));

  const live = new Map<string, ManifestEntry>();
  const visit = (digest: string): void => {
    const entry = entries.get(digest);
    if (!entry || live.has(digest)) return;
    live.set(digest, entry);
    for (const child of refs.get(digest)?.children ?? []) visit(child);
  };
  if (!opts.deleteUntagged) for (const d of entries.keys()) visit(d);
  else {
    for (const tag of await allTags(storage, repository)) {
      const d = await storage.tags.get(repository, tag);
      if (d !== undefined) visit(d);
    }
    // Young manifests may be an index's children pushed first, or a push by digest that a tag is about to follow.
    for (const [d, m] of entries) if (m.modified >= opts.cutoff) visit(d);
    // Referrers of live subjects live, and so do theirs (a signature of an SBOM), until nothing changes.
    for (let grew = true; grew; ) {
      grew = false;
      for (const [d, m] of entries) {
        if (!live.has(d) && m.subject !== undefined && live.has(m.subject)) {
          visit(d);
          grew = true;
        }
      }
    }
  }
  const dead = [...entries.values()].filter((m) => !live.has(m.digest));
  const blobs = new Set<string>();
  for (const d of live.keys()) for (const b of refs.get(d)?.blobs ?? []) blobs.add(b);
  return { live, dead, blobs };
}
