// The Docker API's image transfers: pull and import (POST /images/create), push, save (GET
// /images/get) and load, each a stream over the engine's functions with Docker's progress messages.
import { PassThrough, Readable } from 'node:stream';
import type { Context } from 'hono';
import {
  findImage,
  formatReference,
  imageEvent,
  importImage,
  loadImages,
  parseNormalizedNamed,
  parsePlatform,
  pullImages,
  pushImage,
  repoAndTag,
  saveImages,
  withDefaultTag,
  type ImageReference,
  type Store,
} from '../../engine/index.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import type { ApiApp, ApiContext, ApiEnv } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { familiarName } from '../shapes/image-json.js';
import { jsonStream } from '../streams/json-stream.js';
import { pullProgress, pushProgress } from '../shapes/progress-json.js';
import { decodeRegistryAuth, registryOptionsFor } from '../registry-auth.js';
import { lookupImage } from './images.js';

type Ctx = Context<ApiEnv>;

export function imageTransferRoutes(app: ApiApp, ctx: ApiContext): undefined {
  const { store } = ctx;

  app.post('/images/create', async (c) => {
    const q = c.req.query();
    if (q.fromSrc !== undefined) return importFrom(c, store, q);
    if (!q.fromImage) throw badRequest('fromImage or fromSrc is required');
    return pullFrom(c, store, q.fromImage, q.tag ?? '', q.platform);
  });

  app.get('/images/get', async (c) => save(c, store, c.req.queries('names') ?? []));
  app.get('/images/:name{.+}/get', async (c) => save(c, store, [c.req.param('name')]));

  // quiet= only hides progress bars, which berth's load does not send: the "Loaded image" lines come either way, as from dockerd.
  app.post('/images/load', async (c) =>
    jsonStream(c, async (emit) => {
      const records = await loadImages(store, c.env.incoming);
      for (const r of records) {
        const lines = r.names.length ? r.names.map((n) => `Loaded image: ${familiarName(n)}\n`) : [`Loaded image ID: ${r.id}\n`];
        for (const stream of lines) emit({ stream });
      }
    }),
  );

  app.post('/images/:name{.+}/push', async (c) => {
    const name = c.req.param('name');
    const tag = c.req.query('tag') ?? '';
    const source = tag ? `${name}${tag.startsWith('sha256:') ? '@' : ':'}${tag}` : name;
    const targets = await pushTargets(store, source);
    const first = targets[0]!.ref;
    const opts = registryOptionsFor(first.domain, decodeRegistryAuth(c.req.header('x-registry-auth')));
    return jsonStream(c, async (emit) => {
      emit({ status: `The push refers to repository [${familiarName(`${first.domain}/${first.path}`)}]` });
      for (const { ref, id } of targets) {
        const { digest } = await pushImage(store, id, formatReference(ref), { ...opts, onProgress: pushProgress(emit) });
        await imageEvent(store, 'push', id, formatReference(ref));
        const shownTag = ref.tag ?? ref.digest ?? 'latest';
        emit({ status: `${shownTag}: digest: ${digest}` });
        emit({ progressDetail: {}, aux: { Tag: shownTag, Digest: digest } });
      }
    });
  });
}

/**
 * What a push sends: the image `source` names, or for a bare repository (no tag: `docker push
 * --all-tags`) every local tag of that repository, as dockerd pushes them.
 */
async function pushTargets(store: Store, source: string): Promise<{ ref: ImageReference; id: string }[]> {
  let parsed: ImageReference;
  try {
    parsed = parseNormalizedNamed(source);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  const images = await store.images();
  if (parsed.tag === undefined && parsed.digest === undefined) {
    const repo = `${parsed.domain}/${parsed.path}`;
    const all = images.flatMap((i) =>
      i.names.filter((n) => !n.includes('@') && repoAndTag(n).repository === repo).map((n) => ({ ref: parseNormalizedNamed(n), id: i.id })),
    );
    if (all.length > 0) return all;
  }
  const image = findImage(images, source);
  if (!image) throw notFound(`An image does not exist locally with the tag: ${source}`);
  return [{ ref: parsed.digest ? parsed : withDefaultTag(parsed), id: image.id }];
}

/** POST /images/create?fromImage=: a pull with Docker's progress messages. An empty tag with a bare name pulls every tag, as dockerd does. */
async function pullFrom(c: Ctx, store: Store, fromImage: string, tag: string, platform: string | undefined): Promise<Response> {
  // A tag (or digest) given apart replaces one in fromImage, as dockerd's WithTag does (dockerode sends both).
  const input = tag ? `${repoAndTag(fromImage).repository}${tag.startsWith('sha256:') ? '@' : ':'}${tag}` : fromImage;
  let ref;
  try {
    ref = parseNormalizedNamed(input);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  const allTags = ref.tag === undefined && ref.digest === undefined;
  const shownTag = ref.digest ?? ref.tag ?? 'latest';
  const opts = registryOptionsFor(ref.domain, decodeRegistryAuth(c.req.header('x-registry-auth')));
  const platformOpt = platform ? { platform: parsePlatform(platform) } : {};
  const wanted = allTags ? undefined : formatReference(ref.digest ? ref : withDefaultTag(ref));
  const before = wanted ? findImage(await store.images(), wanted)?.id : undefined;
  return jsonStream(c, async (emit) => {
    let announced = false;
    const progress = pullProgress(emit);
    // Docker's clients mean Docker Hub by a short name, whatever registries.conf searches (podman's compat API normalizes them so too).
    const records = await pullImages(store, formatReference(ref), {
      ...opts,
      ...platformOpt,
      ...(allTags ? { allTags: true } : {}),
      // dockerd says where it pulls from once the image is found: a missing one is a plain 404.
      onProgress: (e) => {
        if (!announced) emit({ status: `Pulling from ${ref.path}`, ...(allTags ? {} : { id: shownTag }) });
        announced = true;
        progress(e);
      },
    }).catch((e: unknown) => {
      if (!announced && isBerthError(e) && e.code !== 'UNAUTHORIZED' && /manifest unknown|not found|404/i.test(e.message)) {
        throw notFound(`manifest for ${familiarName(input)} not found: ${e.message}`);
      }
      throw e;
    });
    for (const r of records) await imageEvent(store, 'pull', r.id, input);
    const record = records.at(-1);
    if (record && !allTags) emit({ status: `Digest: ${record.digests[0] ?? record.manifestDigest}` });
    const shown = familiarName(allTags ? `${ref.domain}/${ref.path}` : wanted!);
    const upToDate = record !== undefined && before === record.id;
    emit({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${shown}` });
  });
}

/** POST /images/create?fromSrc=-: the body is a root file system tarball, imported as one layer. */
async function importFrom(c: Ctx, store: Store, q: Record<string, string>): Promise<Response> {
  if (q.fromSrc !== '-') throw badRequest('berth imports from the request body only (fromSrc=-)');
  const name = q.repo ? (q.tag ? `${q.repo}:${q.tag}` : q.repo) : undefined;
  const changes = c.req.queries('changes') ?? [];
  return jsonStream(c, async (emit) => {
    const record = await importImage(store, c.env.incoming, name, {
      changes,
      ...(q.message ? { message: q.message } : {}),
      ...(q.platform ? { platform: parsePlatform(q.platform) } : {}),
    });
    emit({ status: record.id });
  });
}

/** GET /images/get and /images/{name}/get: a docker-archive of the images, streamed. */
async function save(c: Ctx, store: Store, names: string[]): Promise<Response> {
  if (names.length === 0) throw badRequest('no image names given (names=)');
  for (const n of names) await lookupImage(store, n);
  const out = new PassThrough();
  saveImages(store, names, 'docker-archive', { stream: out }).catch((e: unknown) => {
    console.error(`berth service: saving ${names.join(' ')}: ${(e as Error).message}`);
    out.destroy(e instanceof BerthError ? e : new Error(String(e)));
  });
  return c.body(Readable.toWeb(out) as ReadableStream<Uint8Array>, 200, { 'Content-Type': 'application/x-tar' });
}
