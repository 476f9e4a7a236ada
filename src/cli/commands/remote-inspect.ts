import { deleteRegistryImage, inspectRegistryImage, listRegistryTags, parseReference } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';
import type { GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';
import { registryOptions, type RegistryFlags } from './_registry-opts.js';

/** skopeo's transports that name a registry image; the others (oci:, dir:, ...) are local files. */
function registryReference(name: string) {
  if (!name.startsWith('docker://')) {
    const transport = /^([a-z][a-z0-9-]*):/.exec(name)?.[1];
    throw new BerthError('USAGE', `${name}: only docker:// references can be inspected remotely (transport ${transport ?? 'none'})`);
  }
  return parseReference(name.slice('docker://'.length));
}

interface RemoteInspectFlags extends RegistryFlags {
  raw?: boolean;
  config?: boolean;
  noTags?: boolean;
  format?: string;
}

/**
 * `berth inspect docker://REF`: skopeo inspect, without pulling. `--raw` prints the manifest (or
 * index) exactly as served, `--config` the image config (raw with both), else skopeo's JSON.
 */
export async function runRemoteInspect(_g: GlobalOptions, name: string, f: RemoteInspectFlags): Promise<void> {
  const ref = registryReference(name);
  const image = await inspectRegistryImage(ref, { ...registryOptions(f), ...(f.noTags || f.raw || f.config ? { noTags: true } : {}) });
  if (f.config) {
    process.stdout.write(f.raw ? image.config : `${JSON.stringify(JSON.parse(image.config.toString('utf8')), null, 4)}\n`);
  } else if (f.raw) {
    process.stdout.write(image.topManifest);
  } else if (f.format && f.format !== 'json') {
    process.stdout.write(formatOutput(f.format, [image.info], { defaultTable: '', headers: {}, name: 'inspect' }));
  } else {
    process.stdout.write(`${JSON.stringify(image.info, null, 4)}\n`);
  }
}

/** `berth list-tags docker://REPO`: skopeo's {"Repository", "Tags"}. */
export async function runListTags(_g: GlobalOptions, name: string, f: RegistryFlags): Promise<void> {
  const ref = registryReference(name);
  if (ref.tag || ref.digest) throw new BerthError('USAGE', `${name}: list-tags takes a repository, without a tag or digest`);
  const tags = await listRegistryTags(ref, registryOptions(f));
  process.stdout.write(`${JSON.stringify({ Repository: `${ref.domain}/${ref.path}`, Tags: tags }, null, 4)}\n`);
}

/** `berth delete docker://REF`: skopeo delete. */
export async function runDelete(_g: GlobalOptions, name: string, f: RegistryFlags): Promise<void> {
  const ref = registryReference(name);
  await deleteRegistryImage(ref, registryOptions(f));
}
