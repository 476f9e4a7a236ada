// Listings: tags of a repository, referrers of a manifest, and the catalog of repositories.
import { MediaType } from '../../oci/mediatypes.js';
import { RegistryError } from '../errors.js';
import { checkDigest } from '../names.js';
import type { RegistryStorage } from '../storage/types.js';
import { json, nextLink, pageRequest, type RegistryContext, type RegistryLimits, type Handler } from './_http.js';

export const listTags: Handler = async (c, { storage, limits, target }) => {
  const name = target.name;
  const page = pageRequest(c, limits.maxPage);
  const tags = await storage.tags.list(name, page);
  if (!tags) throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to the registry`, { detail: { name } });
  return json(200, { name, tags: tags.items }, nextLink(`/v2/${name}/tags/list`, page.n, tags.next));
};

/** An OCI index of the manifests whose subject is the digest; 200 with an empty list when there are none. */
export const listReferrers: Handler = async (c, { storage, target }) => {
  const subject = checkDigest(target.ref!);
  let manifests = await storage.manifests.referrers(target.name, subject);
  const headers: Record<string, string> = {};
  const artifactType = c.req.query('artifactType');
  if (artifactType !== undefined && artifactType !== '') {
    manifests = manifests.filter((d) => d.artifactType === artifactType);
    headers['OCI-Filters-Applied'] = 'artifactType';
  }
  return json(200, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }, headers, MediaType.OciIndex);
};

export async function listCatalog(c: RegistryContext, storage: RegistryStorage, limits: RegistryLimits): Promise<Response> {
  const page = pageRequest(c, limits.maxPage);
  const repos = await storage.repositories(page);
  return json(200, { repositories: repos.items }, nextLink('/v2/_catalog', page.n, repos.next));
}
