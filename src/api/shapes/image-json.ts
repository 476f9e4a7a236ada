// Images in the Docker Engine API's shapes: the list's ImageSummary, inspect's ImageInspect and the
// history entries, from berth's image records and image configs.
import { repoAndTag, type ImageRecord, type imageConfig } from '../../engine/index.js';
import { versionAtLeast } from '../version.js';

export type ImageConfig = Awaited<ReturnType<typeof imageConfig>>;

/**
 * A stored name as Docker shows it: Docker Hub's names without `docker.io/` (and `library/`), as
 * dockerd stores them. berth keeps a name given without a registry (`build -t x`, `tag x`) under
 * `localhost/`, podman's habit, where dockerd keeps it as `x`: shown without it, a client sees the
 * name it gave (and berth finds the image by it). Other registries' names are shown as they are.
 */
export function familiarName(name: string): string {
  const prefix = ['docker.io/', 'localhost/'].find((p) => name.startsWith(p));
  if (!prefix) return name;
  const rest = name.slice(prefix.length);
  return rest.startsWith('library/') && !rest.slice('library/'.length).includes('/') ? rest.slice('library/'.length) : rest;
}

/** Tags (`repo:tag`) and digests (`repo@sha256:…`) as Docker lists them. */
export function repoTags(image: ImageRecord): string[] {
  return image.names.filter((n) => !n.includes('@')).map(familiarName);
}

export function repoDigestsOf(image: ImageRecord): string[] {
  const repos = [...new Set(image.names.map((n) => familiarName(repoAndTag(n).repository)))];
  return repos.flatMap((r) => image.digests.map((d) => `${r}@${d}`));
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) || 0;

export interface SummaryExtras {
  /** How many containers use the image (-1: not counted, Docker's default). */
  containers?: number;
  /** Bytes it shares with other images (-1: not counted). */
  sharedSize?: number;
  /** The image a build step made it from, as the classic builder records it ('' for pulled and imported images). */
  parent?: string;
}

/** One entry of GET /images/json. VirtualSize went away in API 1.44. */
export function imageSummary(image: ImageRecord, config: ImageConfig, apiVersion: string, extras: SummaryExtras = {}): Record<string, unknown> {
  return {
    Id: image.id,
    ParentId: extras.parent ?? '',
    // A dangling image is listed as dockerd's image store lists it: by the placeholder names.
    RepoTags: image.names.length ? repoTags(image) : ['<none>:<none>'],
    RepoDigests: image.names.length ? repoDigestsOf(image) : ['<none>@<none>'],
    Created: seconds(config.created ?? image.created),
    Size: image.size,
    SharedSize: extras.sharedSize ?? -1,
    ...(versionAtLeast(apiVersion, '1.44') ? {} : { VirtualSize: image.size }),
    Labels: config.config?.Labels ?? null,
    Containers: extras.containers ?? -1,
  };
}

/** The image's container config with the fields Docker always shows, absent ones at their zero values. */
export function dockerImageConfig(config: ImageConfig): Record<string, unknown> {
  const c = (config.config ?? {}) as Record<string, unknown>;
  return {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(c.Shell ? { Shell: c.Shell } : {}),
  };
}

/** GET /images/{name}/json. `graphDriver` is where the layers lie (overlay's lower and upper directories); `parent` the image a build step made it from. */
export function imageInspect(
  image: ImageRecord,
  config: ImageConfig,
  apiVersion: string,
  graphDriver: Record<string, string>,
  parent = '',
): Record<string, unknown> {
  const history = config.history ?? [];
  const created = config.created ?? image.created;
  const old = !versionAtLeast(apiVersion, '1.44');
  return {
    Id: image.id,
    RepoTags: repoTags(image),
    RepoDigests: repoDigestsOf(image),
    Parent: parent,
    Comment: history.at(-1)?.comment ?? '',
    Created: created,
    ...(versionAtLeast(apiVersion, '1.45') ? {} : { Container: '', ContainerConfig: dockerImageConfig({ ...config, config: {} }) }),
    DockerVersion: (config as { docker_version?: string }).docker_version ?? '',
    Author: config.author ?? '',
    Config: dockerImageConfig(config),
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    ...(config['os.version'] ? { OsVersion: config['os.version'] } : {}),
    Size: image.size,
    ...(old ? { VirtualSize: image.size } : {}),
    GraphDriver: { Name: 'overlay2', Data: graphDriver },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: image.added },
  };
}

/** GET /images/{name}/history: newest first; only the newest entry carries the image's ID and tags. `layerSize` gives a layer's bytes by chain ID. */
export function imageHistory(image: ImageRecord, config: ImageConfig, layerSize: (chain: string) => number): Record<string, unknown>[] {
  const history = config.history ?? [];
  let layer = 0;
  const entries = history.map((h) => ({ h, chain: h.empty_layer ? undefined : image.layers[layer++] }));
  const out: Record<string, unknown>[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const { h, chain } = entries[i]!;
    const newest = i === entries.length - 1;
    out.push({
      Id: newest ? image.id : '<missing>',
      Created: h.created ? seconds(h.created) : 0,
      CreatedBy: h.created_by ?? '',
      Tags: newest ? repoTags(image) : null,
      Size: chain ? layerSize(chain) : 0,
      Comment: h.comment ?? '',
    });
  }
  return out;
}
