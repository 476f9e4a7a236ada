import type { ContainerRecord } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';

/** A container by name, full ID or unique ID prefix, as podman finds them. */
export function findContainer<C extends Pick<ContainerRecord, 'id' | 'name'>>(containers: readonly C[], input: string): C | undefined {
  const byName = containers.find((c) => c.name === input || c.name === input.replace(/^\//, ''));
  if (byName) return byName;
  const id = input.replace(/^sha256:/, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(id)) return undefined;
  const matches = containers.filter((c) => c.id.startsWith(id));
  if (matches.length > 1) throw new BerthError('USAGE', `more than one result for container "${input}": container already exists`);
  return matches[0];
}

/** The containers that use `id`'s namespaces (`--network`, `--pid`, `--ipc`, `--uts` or `--cgroupns container:ID`): they cannot run without it. */
export function dependentContainers<C extends Pick<ContainerRecord, 'id' | 'config'>>(containers: readonly C[], id: string): C[] {
  return containers.filter(
    (x) =>
      (x.config.network.mode === 'container' && x.config.network.container === id) ||
      Object.values(x.config.tuning?.joinNamespaces ?? {}).some((j) => 'container' in j && j.container === id),
  );
}

export function requireContainer<C extends Pick<ContainerRecord, 'id' | 'name'>>(containers: readonly C[], input: string): C {
  const c = findContainer(containers, input);
  if (!c) throw new BerthError('CONTAINER_UNKNOWN', `no container with name or ID "${input}" found: no such container`);
  return c;
}

/** podman's --latest: the container created last. */
export function latestContainer<C extends Pick<ContainerRecord, 'created'>>(containers: readonly C[]): C {
  const latest = [...containers].sort((a, b) => Date.parse(b.created) - Date.parse(a.created))[0];
  if (!latest) throw new BerthError('CONTAINER_UNKNOWN', 'no containers to choose the latest from: no such container');
  return latest;
}
