import { getContainer, runtimeFor } from '../../engine/containers/lifecycle.js';
import { execProcessSpec, withProcessFile } from '../../engine/containers/exec.js';
import { withStore } from '../../engine/engine.js';
import { ExitCode } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { DetachScanner, parseDetachKeys } from './_detach-keys.js';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
  detachKeys?: string;
}

/**
 * `berth exec`: the container's own process settings (env, user, caps, rlimits, no-new-privs)
 * with the flags' changes, run by the runtime inside the running container. Exits with the
 * process's code; 126/127 when it cannot be run or is not found, as podman does.
 */
export async function run(g: GlobalOptions, name: string, command: string[], f: ExecFlags): Promise<number> {
  const detachKeys = parseDetachKeys(f.detachKeys);
  return withStore(engineOptions(g), async (store) => {
    const c = await getContainer(store, name);
    // The runtime makes the terminal from ours: without one on stdin it fails (tcgetattr), where
    // podman's exec still runs; the process then runs without a terminal.
    const tty = Boolean(f.tty) && process.stdin.isTTY === true;
    const proc = await execProcessSpec(store, c, command, { ...f, tty });
    return withProcessFile(store, c, proc, async (procFile) => {
      const runtime = runtimeFor(store, c);
      const child = runtime.execProcess(c.id, procFile, {
        tty: false,
        detach: Boolean(f.detach),
        // With -i and detach keys, what is typed goes through us, to watch for the sequence; with a
        // terminal the runtime must have ours itself.
        stdio: f.detach ? 'ignore' : [!(f.interactive || f.tty) ? 'ignore' : f.interactive && !tty && detachKeys.length ? 'pipe' : 'inherit', 'inherit', 'pipe'],
      });
      // Resolves when the user types the detach keys: the process runs on without us.
      let onDetach: () => void = () => undefined;
      const detached = new Promise<'detached'>((resolve) => (onDetach = () => resolve('detached')));
      if (child.stdin) {
        const scanner = new DetachScanner(detachKeys);
        child.stdin.on('error', () => undefined);
        process.stdin.on('data', (chunk: Buffer) => {
          const { pass, detach } = scanner.feed(chunk);
          if (pass.length && !child.stdin!.write(pass)) {
            process.stdin.pause();
            child.stdin!.once('drain', () => process.stdin.resume());
          }
          if (detach) onDetach();
        });
        process.stdin.once('end', () => child.stdin!.end());
      }
      let errText = '';
      child.stderr?.on('data', (d: Buffer) => {
        errText += d.toString('utf8');
        if (errText.length > 1 << 16) errText = errText.slice(-4096);
        process.stderr.write(d);
      });
      const exited = new Promise<number>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (status, signal) => resolve(status ?? (signal ? 128 + 15 : 1)));
      });
      const code = await Promise.race([exited, detached]);
      if (code === 'detached') {
        // Our ends of its pipes close as they would when we exit; the runtime's exec is not waited for.
        process.stdin.pause();
        child.stdin?.destroy();
        child.stderr?.destroy();
        child.unref();
        return 0;
      }
      if (code === 255 || (code === 1 && /runc|exec failed|OCI runtime/.test(errText))) {
        if (/executable file .* not found|no such file or directory/i.test(errText)) return ExitCode.notFound;
        if (/permission denied/i.test(errText)) return ExitCode.cannotInvoke;
      }
      if (f.detach && code === 0) process.stdout.write(`${c.id}\n`);
      return code;
    });
  });
}
