import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { berthBin, busyboxRootfs, ok, run, SYNC_TIMEOUT_MS, tempDir, type RunOptions, type RunResult } from './cli.js';

export interface ContainerEnv {
  dir: string;
  root: string;
  runRoot: string;
  /** berth with this env's --root and --runroot. */
  berth(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Like berth(), failing the test on a non-zero exit. */
  ok(args: string[], opts?: RunOptions): Promise<RunResult>;
  cleanup(): void;
}

/**
 * A store and run root of its own with a `busybox` image (CMD sh) imported, for tests that run
 * containers. Cleanup removes every container (killing what runs), then unmounts and deletes.
 */
export async function containerEnv(): Promise<ContainerEnv> {
  const t = tempDir('berth-ctr-');
  const root = join(t.path, 'root');
  const runRoot = join(t.path, 'run');
  const args = (a: string[]) => ['--root', root, '--runroot', runRoot, ...a];
  const env: ContainerEnv = {
    dir: t.path,
    root,
    runRoot,
    berth: (a, opts = {}) => run(berthBin, args(a), opts),
    ok: (a, opts = {}) => ok(berthBin, args(a), opts),
    cleanup: () => {
      // Bounded, like every command of a test: a cleanup that hangs would hold the test file open.
      spawnSync(berthBin, args(['rm', '-a', '-f', '-t', '0']), { stdio: 'ignore', timeout: 2 * SYNC_TIMEOUT_MS, killSignal: 'SIGKILL' });
      // Anything a failed test left behind: conmon and the container's processes under this root.
      spawnSync('pkill', ['-9', '-f', '--', runRoot], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS, killSignal: 'SIGKILL' });
      t.cleanup();
    },
  };
  const tarball = join(t.path, 'busybox.tar');
  await busyboxRootfs(tarball);
  await env.ok(['import', '--change', 'CMD ["sh"]', tarball, 'busybox']);
  return env;
}

/** `container inspect NAME`'s one object. */
export async function inspectContainer(env: ContainerEnv, name: string): Promise<Record<string, any>> {
  return (JSON.parse((await env.ok(['container', 'inspect', name])).stdout) as Record<string, any>[])[0]!;
}

/** A build context under the environment's directory: each entry a file (parents made) with its content. */
export function buildContext(env: ContainerEnv, name: string, files: Record<string, string>): string {
  const dir = join(env.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}
