import type { ImageRecord } from '../../store/images.js';
import type { Store } from '../../store/store.js';
import { imageConfig, repoDigests } from './records.js';

/** `image inspect`, in podman's JSON shape. */
export async function inspectImage(store: Store, image: ImageRecord): Promise<Record<string, unknown>> {
  const config = await imageConfig(store, image);
  const top = image.layers.at(-1);
  const upper = top ? store.layers.diffDir(top) : undefined;
  const lowers = image.layers
    .slice(0, -1)
    .reverse()
    .map((c) => store.layers.diffDir(c));
  const history = config.history ?? [];
  return {
    Id: image.id.slice(7),
    Digest: image.digests[0] ?? image.manifestDigest,
    RepoTags: image.names.filter((n) => !n.includes('@')),
    RepoDigests: repoDigests(image),
    Parent: '',
    Comment: history.at(-1)?.comment ?? '',
    Created: config.created ?? image.created,
    Config: config.config ?? {},
    Version: (config as { docker_version?: string }).docker_version ?? '',
    Author: config.author ?? '',
    Architecture: config.architecture,
    Os: config.os,
    ...(config.variant ? { Variant: config.variant } : {}),
    Size: image.size,
    VirtualSize: image.size,
    GraphDriver: {
      Name: 'overlay',
      Data: {
        ...(lowers.length ? { LowerDir: lowers.join(':') } : {}),
        ...(upper ? { UpperDir: upper } : {}),
      },
    },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Labels: config.config?.Labels ?? null,
    Annotations: {},
    ManifestType: image.manifestMediaType,
    User: config.config?.User ?? '',
    History: history,
    NamesHistory: image.names,
  };
}
