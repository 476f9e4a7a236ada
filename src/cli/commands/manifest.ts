import { writeUserFile } from '../../util/user-file.js';
import {
  addToList,
  annotateList,
  createList,
  type EntryAnnotations,
  inspectList,
  listExists,
  pushList,
  removeFromList,
  removeLists,
} from '../../engine/images/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { parseKeyValues } from '../../util/key-values.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { registryOptions, parseBool, type RegistryFlags } from './_registry-opts.js';

interface AnnotateFlags {
  os?: string;
  arch?: string;
  variant?: string;
  osVersion?: string;
  osFeatures: string[];
  features: string[];
  annotation: string[];
}

function annotations(f: AnnotateFlags): EntryAnnotations {
  return {
    ...(f.os !== undefined ? { os: f.os } : {}),
    ...(f.arch !== undefined ? { arch: f.arch } : {}),
    ...(f.variant !== undefined ? { variant: f.variant } : {}),
    ...(f.osVersion !== undefined ? { osVersion: f.osVersion } : {}),
    ...(f.osFeatures.length ? { osFeatures: f.osFeatures } : {}),
    ...(f.features.length ? { features: f.features } : {}),
    ...(f.annotation.length ? { annotations: parseKeyValues(f.annotation) } : {}),
  };
}

/** `manifest create LIST [IMAGE...]`: prints the list's ID, as podman does. */
export async function runCreate(g: GlobalOptions, name: string, images: string[], f: RegistryFlags & { all?: boolean }): Promise<void> {
  const list = await withStore(engineOptions(g), (store) => createList(store, name, images, { ...(f.all ? { all: true } : {}), registry: registryOptions(f) }));
  process.stdout.write(`${list.id}\n`);
}

/** `manifest add LIST IMAGE`: prints the list's ID. */
export async function runAdd(g: GlobalOptions, name: string, image: string, f: RegistryFlags & AnnotateFlags & { all?: boolean }): Promise<void> {
  const list = await withStore(engineOptions(g), (store) =>
    addToList(store, name, image, { ...(f.all ? { all: true } : {}), registry: registryOptions(f), annotate: annotations(f) }),
  );
  process.stdout.write(`${list.id}\n`);
}

export async function runAnnotate(g: GlobalOptions, name: string, digest: string, f: AnnotateFlags & { index?: boolean }): Promise<void> {
  const list = await withStore(engineOptions(g), (store) => annotateList(store, name, digest, { ...annotations(f), ...(f.index ? { index: true } : {}) }));
  process.stdout.write(`${list.id}\n`);
}

export async function runRemove(g: GlobalOptions, name: string, digest: string): Promise<void> {
  const list = await withStore(engineOptions(g), (store) => removeFromList(store, name, digest));
  process.stdout.write(`${list.id}\n`);
}

/** `manifest inspect`: the index as JSON; a name that is no local list is looked up in its registry. */
export async function runInspect(g: GlobalOptions, name: string, f: RegistryFlags): Promise<void> {
  const blob = await withStore(engineOptions(g), (store) => inspectList(store, name, registryOptions(f)));
  // podman indents with four spaces; a registry's bytes are printed the same way.
  process.stdout.write(`${JSON.stringify(JSON.parse(Buffer.from(blob.bytes).toString('utf8')), null, 4)}\n`);
}

export async function runPush(
  g: GlobalOptions,
  name: string,
  dest: string | undefined,
  f: RegistryFlags & { all?: boolean | string; format?: string; rm?: boolean; digestfile?: string; quiet?: boolean },
): Promise<void> {
  const format = f.format === undefined ? undefined : f.format === 'oci' ? 'oci' : f.format === 'v2s2' || f.format === 'docker' ? 'v2s2' : undefined;
  if (f.format !== undefined && !format) throw new BerthError('USAGE', `unknown manifest format ${JSON.stringify(f.format)}: use oci or v2s2`);
  const all = f.all === undefined ? true : parseBool(f.all, '--all');
  const digest = await withStore(engineOptions(g), (store) =>
    pushList(store, name, dest ?? name, { all, ...(format ? { format } : {}), registry: registryOptions(f), ...(f.rm ? { rm: true } : {}) }),
  );
  if (f.digestfile) await writeUserFile(f.digestfile, digest);
  if (!f.quiet) process.stderr.write(`Writing manifest list to image destination\n`);
}

export async function runRm(g: GlobalOptions, names: string[]): Promise<void> {
  const lines = await withStore(engineOptions(g), (store) => removeLists(store, names));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `manifest exists`: 0 when the list is there, 1 when not, no output. */
export async function runExists(g: GlobalOptions, name: string): Promise<number> {
  return (await withStore(engineOptions(g), (store) => listExists(store, name))) ? 0 : 1;
}
