import { withStore } from '../../engine/index.js';
import { imageEvent } from '../../engine/system/index.js';
import { pullImages } from '../../engine/images/index.js';
import type { ProgressSink } from '../../util/progress.js';
import { trace } from '../../util/trace.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { progressReporter } from '../progress.js';
import { platformOf } from './_platform-opts.js';
import { registryOptions, type RegistryFlags } from './_registry-opts.js';

export interface PullFlags extends RegistryFlags {
  platform?: string;
  os?: string;
  arch?: string;
  variant?: string;
  allTags?: boolean;
  quiet?: boolean;
  removeSignatures?: boolean;
}

/** `berth pull NAME...`: podman's lines on stderr, the image ID (hex, as podman prints it) on stdout. */
export async function run(g: GlobalOptions, names: string[], opts: PullFlags): Promise<void> {
  trace('pull: begin');
  const platform = platformOf(opts);
  const progress = await progressReporter(opts.quiet);
  const say = (line: string) => (opts.quiet ? undefined : process.stderr.write(`${line}\n`));
  let started = false;
  const sink: ProgressSink | undefined = progress.sink
    ? (e) => {
        if (!started) say('Getting image source signatures');
        started = true;
        progress.sink!(e);
      }
    : undefined;
  const ids: string[] = [];
  await withStore(engineOptions(g), async (store) => {
    trace('pull: store open');
    for (const name of names) {
      started = false;
      const records = await pullImages(store, name, {
        ...registryOptions(opts),
        ...(platform ? { platform } : {}),
        ...(opts.allTags ? { allTags: true } : {}),
        ...(opts.removeSignatures ? { removeSignatures: true } : {}),
        ...(sink ? { onProgress: sink } : {}),
        onTrying: (ref) => {
          started = false;
          say(`Trying to pull ${ref}...`);
        },
      });
      for (const r of records) if (!ids.includes(r.id)) ids.push(r.id);
      for (const r of records) await imageEvent(store, 'pull', r.id, name);
    }
  }).finally(progress.stop);
  process.stdout.write(ids.map((id) => `${id.replace(/^sha256:/, '')}\n`).join(''));
}
