import { pipeline } from 'node:stream/promises';
import {
  containerChanges,
  containerTarOptions,
  containerPaths,
  copyFiles,
  getContainer,
  latestContainer,
  mountContainer,
  parseCopyLocation,
  tarDirectory,
  unmountContainer,
  withRootfs,
} from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { writeUserFileStream } from '../../util/user-file.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';

/** A Go-style boolean flag value (`-a=false` reaches commander as `=false`). */
function boolValue(v: string): boolean | undefined {
  const t = v.replace(/^=/, '').toLowerCase();
  if (t === 'true' || t === '1' || t === 't') return true;
  if (t === 'false' || t === '0' || t === 'f') return false;
  return undefined;
}

/** `berth cp`: container to host, host to container, container to container, or a tar stream with `-`. */
export async function run(g: GlobalOptions, paths: string[], f: { archive?: boolean | string; overwrite?: boolean }): Promise<void> {
  const args = [...paths];
  let archive = true;
  if (typeof f.archive === 'string') {
    const b = boolValue(f.archive);
    // podman's -a never takes the next word: one that is not a boolean was a path.
    if (b === undefined) args.unshift(f.archive);
    else archive = b;
  }
  if (args.length !== 2) throw new BerthError('USAGE', `accepts 2 arg(s), received ${args.length}`);
  const [src, dest] = args as [string, string];
  await withStore(engineOptions(g), (store) =>
    copyFiles(store, parseCopyLocation(src), parseCopyLocation(dest), {
      archive,
      overwrite: f.overwrite ?? false,
      stdin: process.stdin,
      stdout: process.stdout,
    }),
  );
}

/** `berth export`: the container's whole file system as a plain tar. */
export async function runExport(g: GlobalOptions, name: string, f: { output?: string }): Promise<void> {
  if (!f.output && process.stdout.isTTY) throw new BerthError('USAGE', 'refusing to export to terminal. Use -o flag or redirect');
  await withStore(engineOptions(g), async (store) => {
    await withRootfs(store, name, async (rootfs, c) => {
      const tar = () => tarDirectory(rootfs, containerTarOptions(c));
      if (f.output) await writeUserFileStream(f.output, (out) => pipeline(tar(), out));
      else await pipeline(tar(), process.stdout);
    });
  });
}

export async function runDiff(g: GlobalOptions, name: string | undefined, f: { format?: string; latest?: boolean }): Promise<void> {
  if ((name === undefined) === !f.latest) throw new BerthError('USAGE', '`diff` takes one container, or --latest');
  await withStore(engineOptions(g), async (store) => {
    const target = name ?? latestContainer(await store.containers()).id;
    const changes = await containerChanges(store, target);
    if (f.format === 'json') {
      // podman leaves out an empty list (its fields are omitempty).
      const by = (key: string, k: string) => {
        const paths = changes.filter((c) => c.kind === k).map((c) => c.path);
        return paths.length ? { [key]: paths } : {};
      };
      process.stdout.write(`${JSON.stringify({ ...by('changed', 'C'), ...by('added', 'A'), ...by('deleted', 'D') }, null, 4)}\n`);
      return;
    }
    const rows = changes.map((c) => ({ ChangeType: c.kind, Path: c.path }));
    process.stdout.write(formatOutput(f.format ?? '{{.ChangeType}} {{.Path}}', rows, { defaultTable: '', headers: {}, name: 'diff' }));
  });
}

export async function runMount(g: GlobalOptions, names: string[], f: { trunc: boolean; notruncate?: boolean }): Promise<void> {
  // podman's --notruncate is another name of --no-trunc.
  if (f.notruncate) f = { ...f, trunc: false };
  await withStore(engineOptions(g), async (store) => {
    if (names.length === 0) {
      for (const c of await store.containers())
        if (c.state.mounted) process.stdout.write(`${f.trunc ? c.id.slice(0, 12) : c.id} ${containerPaths(store, c.id).overlay.merged}\n`);
      return;
    }
    for (const n of names) process.stdout.write(`${await mountContainer(store, n)}\n`);
  });
}

export async function runUnmount(g: GlobalOptions, names: string[], f: { all?: boolean }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const targets = f.all ? (await store.containers()).filter((c) => c.state.mounted).map((c) => c.id) : names;
    for (const n of targets) {
      await getContainer(store, n);
      await unmountContainer(store, n);
      process.stdout.write(`${n}\n`);
    }
  });
}
