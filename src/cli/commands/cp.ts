import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { tarDirectory } from '../../archive/diff.js';
import { containerChanges, mountContainer, unmountContainer, withRootfs } from '../../engine/containers/filesystem.js';
import { getContainer } from '../../engine/containers/lifecycle.js';
import { resolveInRoot } from '../../engine/containers/rootfs-path.js';
import { withStore } from '../../engine/engine.js';
import type { ContainerRecord } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';
import { writeUserFileStream } from '../../util/user-file.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';

/** `CONTAINER:PATH` or a local path (a bare name with a colon that is a local file stays local). */
function splitTarget(arg: string): { container?: string; path: string } {
  if (arg === '-') return { path: '-' };
  const i = arg.indexOf(':');
  if (i <= 0 || arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) || '/' };
}

/** Runs GNU tar with the given arguments, its stdin/stdout wired as asked; rejects with its message. */
function tar(args: string[], stdio: { stdin?: NodeJS.ReadableStream; stdout?: NodeJS.WritableStream }): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('tar', args, { stdio: [stdio.stdin ? 'pipe' : 'ignore', stdio.stdout ? 'pipe' : 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
    if (stdio.stdin) (stdio.stdin as NodeJS.ReadableStream).pipe(child.stdin!);
    if (stdio.stdout) child.stdout!.pipe(stdio.stdout as NodeJS.WritableStream, { end: false });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new BerthError('IO', `copying: ${err.trim().split('\n').at(-1) ?? `tar exited ${code}`}`))));
  });
}

/**
 * Copies `src` (a file or directory) into `destParent` as `destName`, through a tar pipe so owners,
 * modes, links and xattrs survive.
 */
async function copyTree(src: string, destParent: string, destName: string): Promise<void> {
  const transform = basename(src) === destName ? [] : [`--transform=s,^${basename(src).replace(/[,\\.*[\]^$]/g, '\\$&')},${destName.replace(/[,\\&]/g, '\\$&')},`];
  await new Promise<void>((resolvePromise, reject) => {
    const reader = spawn('tar', ['-C', dirname(src), '--xattrs', '-cf', '-', basename(src)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const writer = spawn('tar', ['-C', destParent, '--xattrs', '--no-overwrite-dir', ...transform, '-xf', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    reader.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    writer.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    reader.stdout.pipe(writer.stdin);
    let pending = 2;
    let failed = false;
    const done = (code: number | null) => {
      if (code !== 0) failed = true;
      if (--pending === 0) (failed ? reject(new BerthError('IO', `copying ${src}: ${err.trim().split('\n').at(-1) ?? 'tar failed'}`)) : resolvePromise());
    };
    reader.on('close', done);
    writer.on('close', done);
  });
}

/** Where a copy lands, docker's rules: into an existing directory, or as the named path. */
async function destination(dest: string, srcName: string): Promise<{ parent: string; name: string }> {
  const st = await stat(dest).catch(() => undefined);
  if (st?.isDirectory()) return { parent: dest, name: srcName };
  if (dest.endsWith('/')) throw new BerthError('USAGE', `"${dest}" could not be found on the destination: no such file or directory`);
  const parentSt = await stat(dirname(dest)).catch(() => undefined);
  if (!parentSt?.isDirectory()) throw new BerthError('USAGE', `"${dirname(dest)}" could not be found on the destination: no such file or directory`);
  return { parent: dirname(dest), name: basename(dest) };
}

/** `berth cp`: container to host, host to container, or a tar stream with `-` on either side. */
export async function run(g: GlobalOptions, srcArg: string, destArg: string): Promise<void> {
  const src = splitTarget(srcArg);
  const dest = splitTarget(destArg);
  if (src.container && dest.container) throw new BerthError('USAGE', 'copying between containers is not supported');
  if (!src.container && !dest.container) throw new BerthError('USAGE', 'one of source or destination must be a container: CONTAINER:PATH');
  await withStore(engineOptions(g), async (store) => {
    if (src.container) {
      await withRootfs(store, src.container, async (rootfs) => {
        const from = await resolveInRoot(rootfs, src.path, !src.path.endsWith('/.'));
        if (!(await stat(from).catch(() => undefined))) throw new BerthError('USAGE', `"${src.path}" could not be found on container ${src.container}: no such file or directory`);
        if (dest.path === '-') {
          await tar(['-C', dirname(from), '--xattrs', '-cf', '-', basename(from)], { stdout: process.stdout });
          return;
        }
        const { parent, name } = await destination(resolve(dest.path), basename(from));
        await copyTree(from, parent, name);
      });
      return;
    }
    await withRootfs(store, dest.container!, async (rootfs) => {
      const to = await resolveInRoot(rootfs, dest.path);
      if (src.path === '-') {
        const st = await stat(to).catch(() => undefined);
        if (!st?.isDirectory()) throw new BerthError('USAGE', `"${dest.path}" must be a directory to extract a tar stream into`);
        await tar(['-C', to, '--xattrs', '--no-overwrite-dir', '-xf', '-'], { stdin: process.stdin });
        return;
      }
      const from = resolve(src.path);
      if (!(await stat(from).catch(() => undefined))) throw new BerthError('USAGE', `"${src.path}" could not be found on the host: no such file or directory`);
      const target = await destination(to, basename(from));
      // The parent was resolved inside the root; the last name is created there, never followed.
      await copyTree(from, await resolveInRoot(rootfs, target.parent.slice(rootfs.length) || '/'), target.name);
    });
  });
}

/** `berth export`: the container's whole file system as a plain tar. */
export async function runExport(g: GlobalOptions, name: string, f: { output?: string }): Promise<void> {
  if (!f.output && process.stdout.isTTY) throw new BerthError('USAGE', 'refusing to export to terminal. Use -o flag or redirect');
  await withStore(engineOptions(g), async (store) => {
    await withRootfs(store, name, async (rootfs) => {
      if (f.output) await writeUserFileStream(f.output, (out) => pipeline(tarDirectory(rootfs), out));
      else await pipeline(tarDirectory(rootfs), process.stdout);
    });
  });
}

export async function runDiff(g: GlobalOptions, name: string | undefined, f: { format?: string; latest?: boolean }): Promise<void> {
  if ((name === undefined) === !f.latest) throw new BerthError('USAGE', '`diff` takes one container, or --latest');
  await withStore(engineOptions(g), async (store) => {
    const target = name ?? latestContainer(await store.containers());
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

export async function runMount(g: GlobalOptions, names: string[], f: { trunc: boolean }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    if (names.length === 0) {
      for (const c of await store.containers()) if (c.state.mounted) process.stdout.write(`${f.trunc ? c.id.slice(0, 12) : c.id} ${(await import('../../engine/containers/paths.js')).containerPaths(store, c.id).overlay.merged}\n`);
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

/** podman's --latest: the container created last. */
function latestContainer(containers: readonly ContainerRecord[]): string {
  const latest = [...containers].sort((a, b) => Date.parse(b.created) - Date.parse(a.created))[0];
  if (!latest) throw new BerthError('CONTAINER_UNKNOWN', 'no containers to choose the latest from: no such container');
  return latest.id;
}
