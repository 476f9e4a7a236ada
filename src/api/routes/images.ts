// The Docker API's /images routes that read and name images: list, inspect, history, tag, remove,
// prune and search, over the engine's image functions (transfers are image-transfer.ts). Names may
// hold slashes (`127.0.0.1:5000/team/app`), hence the `{.+}` parameters.
import {
  BuildCache,
  filterImages,
  findImage,
  imageConfig,
  imagesUsedBy,
  inspectImage,
  pruneImagesAndCache,
  removeImages,
  searchImages,
  syncContainers,
  tagImage,
  untagImage,
  type ImageRecord,
  type Store,
} from '../../engine/index.js';
import { isBerthError } from '../../util/errors.js';
import type { ApiApp, ApiContext } from '../context.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { filterArgs, parseFilters } from '../filters.js';
import { familiarName, imageHistory, imageInspect, imageSummary } from '../shapes/image-json.js';
import { decodeRegistryAuth, registryOptionsFor } from '../registry-auth.js';

/** Docker's booleans in a query: 1, true, True. */
export const queryFlag = (v: string | undefined) => v !== undefined && /^(1|true)$/i.test(v);

/** The image `name` names, or Docker's 404. */
export async function lookupImage(store: Store, name: string): Promise<ImageRecord> {
  const image = findImage(await store.images(), name);
  if (!image) throw notFound(`No such image: ${name}`);
  return image;
}

export function imageRoutes(app: ApiApp, ctx: ApiContext): undefined {
  const { store } = ctx;

  app.get('/images/json', async (c) => {
    const q = c.req.query();
    const filters = parseFilters(q.filters);
    // `filter=NAME`, the reference filter of clients older than API 1.25.
    if (q.filter) (filters.reference ??= []).push(q.filter);
    for (const key of Object.keys(filters)) {
      if (!['reference', 'dangling', 'label', 'before', 'since'].includes(key)) throw badRequest(`invalid filter '${key}'`);
    }
    const configs = new Map<string, Awaited<ReturnType<typeof imageConfig>>>();
    const configOf = async (i: ImageRecord) => {
      let cfg = configs.get(i.id);
      if (!cfg) configs.set(i.id, (cfg = await imageConfig(store, i)));
      return cfg;
    };
    const labelsOf = async (i: ImageRecord) => ((await configOf(i)).config?.Labels as Record<string, string> | undefined) ?? {};
    let images = await filterImages(await store.images(), filterArgs(filters), labelsOf).catch(asBadRequest);
    const parentOf = await buildParents(store);
    if (!queryFlag(q.all)) {
      // A build's intermediate images show only with all=1, as dockerd hides them.
      const parents = new Set(parentOf.values());
      images = images.filter((i) => i.names.length > 0 || !parents.has(i.id));
    }
    // shared-size=1 (API 1.42): the bytes of each image's layers that other images hold too.
    let sharedSize: ((i: ImageRecord) => Promise<number>) | undefined;
    if (queryFlag(q['shared-size'])) {
      const holders = new Map<string, number>();
      for (const i of await store.images()) for (const l of i.layers) holders.set(l, (holders.get(l) ?? 0) + 1);
      sharedSize = async (i) => {
        let n = 0;
        for (const l of i.layers) if ((holders.get(l) ?? 0) > 1) n += (await store.layers.get(l))?.size ?? 0;
        return n;
      };
    }
    const out = [];
    for (const image of images) {
      let i = image;
      // dockerd lists only the tags a reference filter matched, not every name of the image.
      if (filters.reference?.length) {
        const args = filters.reference.map((r) => `reference=${r}`);
        const kept = [];
        for (const n of i.names) if ((await filterImages([{ ...i, names: [n] }], args, labelsOf)).length > 0) kept.push(n);
        i = { ...i, names: kept };
      }
      out.push(
        imageSummary(i, await configOf(i), c.get('apiVersion'), {
          ...(sharedSize ? { sharedSize: await sharedSize(image) } : {}),
          ...(parentOf.has(i.id) ? { parent: parentOf.get(i.id)! } : {}),
        }),
      );
    }
    out.sort((a, b) => (b.Created as number) - (a.Created as number));
    return c.json(out);
  });

  app.post('/images/prune', async (c) => {
    const filters = parseFilters(c.req.query('filters'));
    for (const key of Object.keys(filters)) if (key !== 'dangling') throw badRequest(`invalid filter '${key}': berth prunes by dangling only`);
    const all = filters.dangling?.some((v) => /^(0|false)$/i.test(v)) ?? false;
    // As `berth image prune`: what kept images were built on stays, and the cache entries of what went go.
    const { deleted, reclaimed } = await pruneImagesAndCache(store, { all });
    return c.json({ ImagesDeleted: deleted.length ? deleted.map((id) => ({ Deleted: id })) : null, SpaceReclaimed: reclaimed });
  });

  app.get('/images/search', async (c) => {
    const q = c.req.query();
    if (!q.term) throw badRequest('a search term is required (term=)');
    const limit = q.limit ? Number(q.limit) : undefined;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw badRequest(`invalid limit ${q.limit}`);
    const host = q.term.includes('/') ? q.term.slice(0, q.term.indexOf('/')) : '';
    const registry = registryOptionsFor(host, decodeRegistryAuth(c.req.header('x-registry-auth')));
    const results = await searchImages(q.term, { registry, filters: filterArgs(parseFilters(q.filters)), ...(limit ? { limit } : {}) }).catch(asBadRequest);
    return c.json(
      results.map((r) => ({
        name: r.Name,
        description: r.Description,
        star_count: r.Stars,
        is_official: r.Official === '[OK]',
        is_automated: r.Automated === '[OK]',
      })),
    );
  });

  app.get('/images/:name{.+}/json', async (c) => {
    const image = await lookupImage(store, c.req.param('name'));
    const config = await imageConfig(store, image);
    const graph = (await inspectImage(store, image)).GraphDriver as { Data: Record<string, string> };
    return c.json(imageInspect(image, config, c.get('apiVersion'), graph.Data, (await buildParents(store)).get(image.id)));
  });

  app.get('/images/:name{.+}/history', async (c) => {
    const image = await lookupImage(store, c.req.param('name'));
    const config = await imageConfig(store, image);
    const sizes = new Map<string, number>();
    for (const chain of image.layers) sizes.set(chain, (await store.layers.get(chain))?.size ?? 0);
    return c.json(imageHistory(image, config, (chain) => sizes.get(chain) ?? 0));
  });

  app.post('/images/:name{.+}/tag', async (c) => {
    const name = c.req.param('name');
    const repo = c.req.query('repo');
    const tag = c.req.query('tag') || 'latest';
    if (!repo) throw badRequest('repository name (repo=) is required');
    if (tag.startsWith('sha256:')) throw badRequest('refusing to create a tag with a digest reference');
    const image = await lookupImage(store, name);
    await tagImage(store, image.id, [`${repo}:${tag}`]).catch(asBadRequest);
    return c.body(null, 201);
  });

  app.delete('/images/:name{.+}', async (c) => {
    const name = c.req.param('name');
    const force = queryFlag(c.req.query('force'));
    const image = await lookupImage(store, name);
    const users = (await syncContainers(store)).filter((ct) => imagesUsedBy(ct).includes(image.id));
    const { reports, failures } = await removeImages(store, [name], { force: force && users.length === 0 });
    const failure = failures[0];
    if (failure && isBerthError(failure, 'IMAGE_IN_USE') && users.length > 0) {
      const user = users[0]!.id.slice(0, 12);
      // dockerd with force keeps an image a container uses and takes its names; the container stays.
      if (!force) throw conflict(`conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is being used by container ${user}`);
      const running = users.find((ct) => ct.state.status === 'running' || ct.state.status === 'paused');
      if (running) {
        throw conflict(
          `conflict: unable to delete ${image.id.slice(7, 19)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`,
        );
      }
      const names = image.names;
      await untagImage(store, image.id, []);
      return c.json(names.map((n) => ({ Untagged: familiarName(n) })));
    }
    if (failure) {
      if (isBerthError(failure, 'IMAGE_IN_USE')) throw conflict(`conflict: ${failure.message}`);
      throw failure;
    }
    const out: Record<string, string>[] = [];
    for (const r of reports) {
      for (const n of r.untagged) out.push({ Untagged: familiarName(n) });
      if (r.deleted) out.push({ Deleted: r.deleted });
    }
    return c.json(out);
  });
}

/** Each image a build step made to the image it was made from, among the images still here (the build cache's records). */
async function buildParents(store: Store): Promise<Map<string, string>> {
  const live = new Set((await store.images()).map((i) => i.id));
  const links = await new BuildCache(store).links();
  return new Map([...links].filter(([image, parent]) => live.has(image) && live.has(parent)));
}

function asBadRequest(e: unknown): never {
  if (isBerthError(e, 'USAGE')) throw badRequest(e.message);
  throw e;
}
