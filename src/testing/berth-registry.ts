import { type ChildProcess, spawn } from 'node:child_process';
import { berthBin } from './cli.js';

/** `berth registry serve` as a test runs it: a child of the test, its stderr kept. */
export interface ServedBerthRegistry {
  /** The address it logged, `http://HOST:PORT` (https with TLS). */
  url: string;
  /** HOST:PORT, for image references. */
  host: string;
  child: ChildProcess;
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
  /** Everything it wrote to stderr so far (its log). */
  stderr(): string;
  /** SIGTERM (SIGKILL after 10 s), and its exit. */
  stop(): Promise<void>;
}

/**
 * Starts `berth --root ROOT registry serve ARGS` and resolves once it logs the address it listens
 * on; so `--addr 127.0.0.1:0` (or `addr = "127.0.0.1:0"` in its config) lets the kernel pick a
 * port with no race, and a server that fails to start rejects with its log.
 */
export async function serveBerthRegistry(root: string, args: string[], opts: { env?: Record<string, string> } = {}): Promise<ServedBerthRegistry> {
  const child = spawn(berthBin, ['--root', root, 'registry', 'serve', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`registry serve did not start in 30 s: ${stderr}`));
    }, 30_000);
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /listening on (\S+) /.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`registry serve exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    host: new URL(url).host,
    child,
    exited,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // A server that ignores SIGTERM must not keep the test file alive.
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(force);
      }
      await exited;
    },
  };
}
