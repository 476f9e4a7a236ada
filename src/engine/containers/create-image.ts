/** The image a container (or a build's FROM) starts from: found in the store, or pulled as the pull policy says. */
import { findImage } from '../../store/lookup.js';
import type { ImageRecord } from '../../store/images.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import type { PullOptions } from '../images/pull.js';
import { imageEvent } from '../system/events.js';

/** References to images in files (archives, layouts, skopeo directories) that run and create take, and push writes, as podman does. */
export const LOCAL_TRANSPORT = /^(docker-archive|oci-archive|oci|dir):/;

/** podman's run of `docker-archive:FILE` and the like: the image is stored first (with the names it carries), then run. */
async function storeFromArchive(store: Store, name: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const { storeFromTransport } = await import('../images/copy.js');
  const image = await storeFromTransport(store, name, opts.onProgress);
  await imageEvent(store, 'pull', image.id, name);
  return image;
}

/**
 * An image of the store by name, pulled when the policy asks (podman's --pull: missing by default,
 * always, never, newer), for run/create and a build's FROM alike.
 */
export async function findOrPullImage(
  store: Store,
  name: string,
  opts: { pull?: string; pullOptions?: PullOptions; onPull?: (name: string) => void } = {},
): Promise<ImageRecord> {
  const policy = opts.pull ?? 'missing';
  if (!['missing', 'always', 'never', 'newer'].includes(policy))
    throw new BerthError('USAGE', `invalid pull policy "${policy}": must be missing, always, never or newer`);
  if (LOCAL_TRANSPORT.test(name)) return storeFromArchive(store, name, opts.pullOptions);
  let image = findImage(await store.images(), name);
  if ((image && policy !== 'always') || policy === 'never') {
    if (!image) throw new BerthError('IMAGE_UNKNOWN', `${name}: image not known`);
    return image;
  }
  opts.onPull?.(name);
  // The registry client loads only when a pull is needed: most runs find the image here.
  const { pullImages } = await import('../images/pull.js');
  const pulled = await pullImages(store, name, opts.pullOptions ?? {});
  image = pulled[0];
  if (!image) throw new BerthError('IMAGE_UNKNOWN', `${name}: image not known`);
  await imageEvent(store, 'pull', image.id, name);
  return image;
}
