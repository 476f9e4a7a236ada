// GET /system/df (docker system df) and POST /auth (docker login's check): the store's disk use in
// Docker's shape, and a registry login checked with the registry (the client keeps the credentials).
import {
  BuildCache,
  checkRegistryLogin,
  containerSize,
  imageConfig,
  registriesConf,
  syncContainers,
  volumeMountPoint,
  volumeSize,
  volumeUsers,
} from '../../engine/index.js';
import { isBerthError } from '../../util/errors.js';
import type { ApiApp, ApiContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import { containerUsage, volumeUsage } from '../shapes/df-json.js';
import { imageSummary } from '../shapes/image-json.js';
import { authConfig, registryHost, registryOptionsFor } from '../registry-auth.js';

export function systemDfRoutes(app: ApiApp, ctx: ApiContext): undefined {
  const { store } = ctx;

  app.get('/system/df', async (c) => {
    // API 1.42: type= limits the answer to some of container, image, volume, build-cache.
    const types = new Set(c.req.queries('type') ?? ['container', 'image', 'volume', 'build-cache']);
    const [images, containers, volumes] = await Promise.all([store.images(), syncContainers(store), store.volumes()]);
    const layerSize = new Map<string, number>();
    for (const chain of new Set(images.flatMap((i) => i.layers))) layerSize.set(chain, (await store.layers.get(chain))?.size ?? 0);
    const holders = new Map<string, number>();
    for (const i of images) for (const l of i.layers) holders.set(l, (holders.get(l) ?? 0) + 1);
    const users = new Map<string, number>();
    for (const ct of containers) users.set(ct.image, (users.get(ct.image) ?? 0) + 1);
    const parents = await new BuildCache(store).parents();
    const body: Record<string, unknown> = { LayersSize: [...layerSize.values()].reduce((a, b) => a + b, 0) };
    if (types.has('image')) {
      const out = [];
      for (const i of images) {
        if (i.names.length === 0 && parents.has(i.id)) continue;
        const shared = i.layers.filter((l) => (holders.get(l) ?? 0) > 1).reduce((n, l) => n + (layerSize.get(l) ?? 0), 0);
        out.push(imageSummary(i, await imageConfig(store, i), c.get('apiVersion'), { containers: users.get(i.id) ?? 0, sharedSize: shared }));
      }
      body.Images = out;
    }
    if (types.has('container')) {
      const sizeOf = new Map(images.map((i) => [i.id, i.size]));
      const out = [];
      for (const ct of containers) out.push(containerUsage(ct, await containerSize(store, ct), sizeOf.get(ct.image) ?? 0));
      body.Containers = out;
    }
    if (types.has('volume')) {
      const out = [];
      for (const v of volumes)
        out.push(volumeUsage(v, await volumeMountPoint(store, v.name), await volumeSize(store, v.name), volumeUsers(containers, v.name).length));
      body.Volumes = out;
    }
    // berth's build cache is its intermediate images, counted with the images above.
    if (types.has('build-cache')) body.BuildCache = [];
    return c.json(body);
  });

  app.post('/auth', async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw badRequest('the body must be a JSON AuthConfig');
    }
    if (typeof raw !== 'object' || raw === null) throw badRequest('the body must be a JSON AuthConfig');
    const auth = authConfig(raw as Record<string, unknown>);
    const host = registryHost(auth.serveraddress);
    const opts = registryOptionsFor(host, auth);
    if (!opts.creds) throw badRequest('a username and password (or an identity token) are required');
    try {
      await checkRegistryLogin(host, { ...opts, registriesConf: await registriesConf() });
    } catch (e) {
      if (isBerthError(e, 'UNAUTHORIZED')) throw new ApiError(401, `login to ${host} failed: ${e.message}`);
      throw e;
    }
    return c.json({ Status: 'Login Succeeded', IdentityToken: '' });
  });
}
