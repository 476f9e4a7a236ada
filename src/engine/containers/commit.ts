import { diffDirectory } from '../../archive/diff.js';
import { applyChanges } from '../../image/changes.js';
import { storedName } from '../../store/lookup.js';
import type { ImageRecord } from '../../store/images.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { ContainerConfig } from '../../oci/manifest.js';
import type { Store } from '../../store/store.js';
import { baseImage, commitStep } from '../images/commit.js';
import { makeUpperDir } from '../../store/overlay.js';
import { containerEvent } from '../system/events.js';
import { getContainer } from './lifecycle.js';
import { pauseContainer, unpauseContainer } from './pause.js';
import { containerPaths } from './paths.js';
import { containerTarOptions } from './userns.js';
import { cgroupsDisabled } from '../../runtime/rootless-cgroups.js';

export interface CommitOptions {
  changes?: string[];
  message?: string;
  author?: string;
  pause?: boolean;
  format?: 'oci' | 'docker';
}

/**
 * What the committed image runs: the container's own settings over its image's, as podman and
 * docker commit them (its --entrypoint, command, environment, user, working directory and
 * labels); the HOSTNAME and `container` variables every start sets are left out.
 */
function containerRunConfig(c: ContainerRecord, image: ContainerConfig): ContainerConfig {
  const env = c.config.env.filter((e) => !/^(HOSTNAME|container)=/.test(e));
  const config: ContainerConfig = { ...image, Env: env };
  if (c.config.entrypoint.length) config.Entrypoint = c.config.entrypoint;
  else delete config.Entrypoint;
  if (c.config.command.length) config.Cmd = c.config.command;
  else delete config.Cmd;
  if (c.config.user) config.User = c.config.user;
  if (c.config.workdir) config.WorkingDir = c.config.workdir;
  if (Object.keys(c.config.labels).length) config.Labels = { ...image.Labels, ...c.config.labels };
  return config;
}

/**
 * A new image from a container: the image it was made from, plus one layer holding the
 * container's changes (its overlay upperdir as a layer tar, whiteouts included), with the config
 * changes and a history entry. The container is paused meanwhile when it runs, so the layer is
 * one consistent moment.
 */
export async function commitContainer(store: Store, nameOrId: string, name: string | undefined, opts: CommitOptions = {}): Promise<ImageRecord> {
  const names = name ? [storedName(name)] : [];
  const c = await getContainer(store, nameOrId);
  const paths = containerPaths(store, c.id);
  // Rootless without cgroups there is no freezer: commit as podman does by default, unpaused.
  const pause = (opts.pause ?? !cgroupsDisabled()) && c.state.status === 'running';
  if (pause) await pauseContainer(store, c.id);
  try {
    // A container that never started has no writable layer yet: its changes are none.
    await makeUpperDir(paths.overlay.upper);
    const base = await baseImage(store, c.image);
    const image = await commitStep(
      store,
      c.image,
      {
        config: applyChanges(containerRunConfig(c, base.config.config ?? {}), opts.changes ?? []),
        layer: diffDirectory(paths.overlay.upper, containerTarOptions(c)),
        history: {
          created_by: [...c.config.entrypoint, ...c.config.command].join(' '),
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.message ? { comment: opts.message } : {}),
        },
        format: opts.format ?? 'oci',
        names,
        ...(opts.author ? { author: opts.author } : {}),
      },
      base,
    );
    await containerEvent(store, c, 'commit');
    return image;
  } finally {
    if (pause) await unpauseContainer(store, c.id).catch(() => undefined);
  }
}
