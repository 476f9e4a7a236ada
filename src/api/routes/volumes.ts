// The Docker API's /volumes routes over engine/volumes: list, inspect, create, remove, prune, in
// Docker's shapes (../volume-json.ts).
import {
  createVolume,
  getVolume,
  inspectVolume,
  pruneVolumes,
  removeVolumes,
  volumeFilters,
  volumeSize,
  volumeUsers,
  type VolumeRecord,
} from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import type { ApiApp, ApiContext, UpgradeRoute } from '../context.js';
import { badRequest } from '../errors.js';
import { jsonObject } from '../json-body.js';
import { filterArgs, parseFilters, type Filters } from '../filters.js';
import { versionAtLeast } from '../version.js';
import { dockerVolume, volumeCreateOptions, type VolumeCreateRequest } from '../shapes/volume-json.js';

const LIST_FILTERS = new Set(['name', 'label', 'dangling', 'driver']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

function checkKeys(filters: Filters, allowed: Set<string>): void {
  for (const key of Object.keys(filters)) if (!allowed.has(key)) throw badRequest(`Invalid filter '${key}'`);
}

const truthy = (v: string | undefined) => v === '1' || v === 'true';

export function volumeRoutes(app: ApiApp, ctx: ApiContext): UpgradeRoute[] {
  app.get('/volumes', async (c) => {
    const filters = parseFilters(c.req.query('filters'));
    checkKeys(filters, LIST_FILTERS);
    const tests = volumeFilters(filterArgs(filters));
    const [volumes, containers] = await Promise.all([ctx.store.volumes(), ctx.store.containers()]);
    const shown = volumes.filter((v) => {
      const inUse = volumeUsers(containers, v.name).length > 0;
      return tests.every((t) => t(v, inUse));
    });
    return c.json({ Volumes: shown.map((v) => dockerVolume(inspectVolume(ctx.store, v, containers))), Warnings: [] });
  });

  app.get('/volumes/:name', async (c) => {
    const v = await getVolume(ctx.store, c.req.param('name'));
    return c.json(dockerVolume(inspectVolume(ctx.store, v, await ctx.store.containers())));
  });

  app.post('/volumes/create', async (c) => {
    const body = jsonObject(await c.req.text()) as VolumeCreateRequest;
    const { name, options } = volumeCreateOptions(body);
    const v = await createVolume(ctx.store, name, options);
    return c.json(dockerVolume(inspectVolume(ctx.store, v, await ctx.store.containers())), 201);
  });

  // Docker's force does not take the volume from its containers (podman's does): it only passes over a volume that is not there.
  app.delete('/volumes/:name', async (c) => {
    try {
      await removeVolumes(ctx.store, [c.req.param('name')]);
    } catch (e) {
      if (!(truthy(c.req.query('force')) && e instanceof BerthError && e.code === 'VOLUME_UNKNOWN')) throw e;
    }
    return c.body(null, 204);
  });

  app.post('/volumes/prune', async (c) => {
    const filters = parseFilters(c.req.query('filters'));
    checkKeys(filters, PRUNE_FILTERS);
    const { all = [], ...rest } = filters;
    // From API 1.42 a prune takes only anonymous volumes unless all=true (Docker 23's change).
    const onlyAnonymous = versionAtLeast(c.get('apiVersion'), '1.42') && !all.some(truthy);
    const tests = volumeFilters([...filterArgs(rest), ...(onlyAnonymous ? ['anonymous=true'] : [])]);
    const [volumes, containers] = await Promise.all([ctx.store.volumes(), ctx.store.containers()]);
    const candidates = volumes.filter((v) => volumeUsers(containers, v.name).length === 0 && tests.every((t) => t(v, false)));
    // Sizes before they go; only the volumes measured are pruned, so one made meanwhile stays.
    const sizes = new Map(await Promise.all(candidates.map(async (v: VolumeRecord) => [v.name, await volumeSize(ctx.store, v.name).catch(() => 0)] as const)));
    const removed = await pruneVolumes(ctx.store, (v) => sizes.has(v.name));
    return c.json({ VolumesDeleted: removed, SpaceReclaimed: removed.reduce((sum, n) => sum + (sizes.get(n) ?? 0), 0) });
  });

  return [];
}
