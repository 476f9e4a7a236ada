import { withStore } from '../../engine/index.js';
import { findImage, inspectImage, requireImage } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';
import type { RegistryFlags } from './_registry-opts.js';

export async function run(g: GlobalOptions, names: string[], opts: { format?: string }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const records = await store.images();
    const found = [];
    const missing: string[] = [];
    for (const n of names) {
      try {
        found.push(withGoFieldNames(await inspectImage(store, requireImage(records, n))));
      } catch (e) {
        if (e instanceof BerthError && e.code === 'IMAGE_UNKNOWN') missing.push(n);
        else throw e;
      }
    }
    if (!opts.format || opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    } else {
      process.stdout.write(formatOutput(opts.format, found as unknown as object[], { defaultTable: '', headers: {} }));
    }
    if (missing.length > 0) throw new BerthError('IMAGE_UNKNOWN', missing.map((m) => `${m}: image not known`).join('\n'));
  });
}

/**
 * The top-level `berth inspect`: each name is looked up as podman does with --type all, first as a
 * container, then an image, then a volume; the objects come out in one JSON array.
 */
export async function runAny(
  g: GlobalOptions,
  names: string[],
  opts: { format?: string; type: 'all' | 'container' | 'image' | 'volume'; raw?: boolean; config?: boolean; tags?: boolean; latest?: boolean } & RegistryFlags,
): Promise<void> {
  if (opts.latest) {
    // podman's --latest: the container created last, and nothing else named.
    if (names.length > 0) throw new BerthError('USAGE', '--latest and containers cannot be used together');
    const { latestContainer } = await import('./_inspect-any.js');
    const latest = await withStore(engineOptions(g), async (store) => latestContainer(await store.containers()).id);
    return runAny(g, [latest], { ...opts, latest: false, type: 'container' });
  }
  if (names.length === 0) throw new BerthError('USAGE', 'inspect requires at least 1 argument');
  // With a transport it is skopeo's inspect, of one image in a registry.
  if (/^[a-z][a-z0-9-]*:\/\//.test(names[0] ?? '')) {
    if (names.length > 1) throw new BerthError('USAGE', 'inspect of a docker:// reference takes exactly one name');
    const { runRemoteInspect } = await import('./remote-inspect.js');
    return runRemoteInspect(g, names[0]!, { ...opts, ...(opts.tags === false ? { noTags: true } : {}) });
  }
  if (opts.raw || opts.config) throw new BerthError('USAGE', '--raw and --config apply to docker:// references only');
  const { syncContainers, findContainer, inspectContainer, findVolume, inspectVolume } = await import('./_inspect-any.js');
  await withStore(engineOptions(g), async (store) => {
    const want = (kind: string) => opts.type === 'all' || opts.type === kind;
    const [containers, images, volumes] = await Promise.all([
      want('container') || want('volume') ? syncContainers(store) : Promise.resolve([]),
      want('image') ? store.images() : Promise.resolve([]),
      want('volume') ? store.volumes() : Promise.resolve([]),
    ]);
    const found: object[] = [];
    const missing: string[] = [];
    for (const n of names) {
      const c = want('container') ? findContainer(containers, n) : undefined;
      if (c) {
        found.push(withGoFieldNames(await inspectContainer(store, c)));
        continue;
      }
      const image = want('image') ? findImage(images, n) : undefined;
      if (image) {
        found.push(withGoFieldNames(await inspectImage(store, image)));
        continue;
      }
      const volume = want('volume') ? findVolume(volumes, n) : undefined;
      if (volume) {
        found.push(inspectVolume(store, volume, containers));
        continue;
      }
      missing.push(n);
    }
    if (!opts.format || opts.format === 'json') process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    else process.stdout.write(formatOutput(opts.format, found, { defaultTable: '', headers: {}, name: 'inspect' }));
    if (missing.length > 0) {
      // podman's words for each kind (its `inspect` with no --type quotes the name).
      const notFound = (m: string) =>
        opts.type === 'all' ? `no such object: "${m}"` : opts.type === 'image' ? `${m}: image not known` : `no such ${opts.type} ${m}`;
      throw new BerthError(opts.type === 'image' ? 'IMAGE_UNKNOWN' : 'CONTAINER_UNKNOWN', missing.map(notFound).join('\n'));
    }
  });
}

/**
 * podman's inspect structs call the ID field `ID` and print it as `Id` in JSON: a template may use
 * either. The alias is not enumerable, so JSON and `{{json .}}` show `Id` alone.
 */
function withGoFieldNames<T extends object>(o: T): T {
  if (Object.hasOwn(o, 'Id')) Object.defineProperty(o, 'ID', { value: (o as { Id: unknown }).Id, enumerable: false });
  return o;
}
