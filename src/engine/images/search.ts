import { splitDockerDomain } from '../../oci/reference.js';
import { RegistryClient, type RegistryOptions } from '../../transports/docker/index.js';
import { registriesConf } from './pull.js';
import { BerthError } from '../../util/errors.js';

/** One row of `search`, in podman's JSON shape (a catalog has no descriptions, stars or flags). */
export interface SearchResult {
  Index: string;
  Name: string;
  Description: string;
  Stars: number;
  Official: string;
  Automated: string;
  Tag: string;
}

export interface SearchOptions {
  /** At most this many results per registry (podman's default is 25). */
  limit?: number;
  filters?: string[];
  registry?: RegistryOptions;
}

/** `registry/term` names its registry; a bare term is looked for in the unqualified-search registries. */
function registriesFor(term: string, searchRegistries: string[]): { registry: string; term: string }[] {
  const slash = term.indexOf('/');
  if (slash > 0) {
    const head = term.slice(0, slash);
    if (head.includes('.') || head.includes(':') || head === 'localhost') return [{ registry: head, term: term.slice(slash + 1) }];
  }
  return searchRegistries.map((registry) => ({ registry, term }));
}

/** podman's --filter for search: stars=N, is-official, is-automated (a catalog's entries have none of these). */
function matchesFilters(r: SearchResult, filters: string[]): boolean {
  return filters.every((f) => {
    const [key, value = ''] = f.split('=', 2) as [string, string?];
    switch (key) {
      case 'stars': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) throw new BerthError('USAGE', `invalid filter "${f}": stars takes a whole number`);
        return r.Stars >= n;
      }
      case 'is-official':
        return (r.Official === '[OK]') === (value === '' || value === 'true');
      case 'is-automated':
        return (r.Automated === '[OK]') === (value === '' || value === 'true');
      default:
        throw new BerthError('USAGE', `invalid filter "${f}": supported are stars=, is-official and is-automated`);
    }
  });
}

async function withClient<T>(registry: string, opts: RegistryOptions, fn: (client: RegistryClient) => Promise<T>): Promise<T> {
  if (registry === 'docker.io') throw new BerthError('USAGE', 'docker.io has no catalog to search: name another registry (REGISTRY/TERM)');
  const client = await RegistryClient.open(registry, { ...opts, registriesConf: opts.registriesConf ?? (await registriesConf()) }, `${registry}/_catalog`);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/**
 * `search TERM`: the repositories of each registry's catalog (`/v2/_catalog`) whose name contains
 * the term, as podman finds them in registries other than Docker Hub.
 */
export async function searchImages(term: string, opts: SearchOptions = {}): Promise<SearchResult[]> {
  const conf = opts.registry?.registriesConf ?? (await registriesConf());
  const out: SearchResult[] = [];
  for (const { registry, term: wanted } of registriesFor(term, conf.unqualifiedSearchRegistries)) {
    const names = await withClient(registry, { ...opts.registry, registriesConf: conf }, (c) => c.listCatalog());
    const found = names
      .filter((n) => n.includes(wanted))
      .map((n): SearchResult => ({ Index: registry, Name: `${registry}/${n}`, Description: '', Stars: 0, Official: '', Automated: '', Tag: '' }))
      .filter((r) => matchesFilters(r, opts.filters ?? []));
    out.push(...found.slice(0, opts.limit ?? 25));
  }
  return out;
}

/** `search --list-tags REPOSITORY`: the repository's tags (the name must be a whole repository). */
export async function searchTags(name: string, opts: SearchOptions = {}): Promise<{ Name: string; Tags: string[] }> {
  const [registry, path] = splitDockerDomain(name);
  if (!name.includes('/') || path === '') throw new BerthError('USAGE', `${name}: --list-tags needs a whole repository name, REGISTRY/REPOSITORY`);
  const tags = await withClient(registry, opts.registry ?? {}, (c) => c.listTags(path));
  return { Name: `${registry}/${path}`, Tags: opts.limit ? tags.slice(0, opts.limit) : tags };
}
