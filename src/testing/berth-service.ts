// `berth system service` for API tests: a store of its own (with the busybox image, as
// containerEnv), the service on a socket in it, the docker CLI and raw requests pointed there.
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { berthBin, killGroup, run, SYNC_TIMEOUT_MS, type RunOptions, type RunResult } from './cli.js';
import { containerEnv, type ContainerEnv } from './containers.js';
import { waitFor } from './wait.js';

export interface BerthService extends ContainerEnv {
  socket: string;
  /** DOCKER_HOST for clients. */
  dockerHost: string;
  /** The docker CLI (28, /usr/local/bin/docker) against the service. */
  docker(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** One request; the body JSON-encoded unless it is a Buffer. */
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; json(): any }>;
  /** The service's stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function berthService(): Promise<BerthService> {
  const env = await containerEnv();
  const socket = join(env.dir, 'api.sock');
  const child = spawn(berthBin, ['--root', env.root, '--runroot', env.runRoot, 'system', 'service', '--time', '0', `unix://${socket}`], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api: BerthService['api'] = (method, path, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          socketPath: socket,
          method,
          path,
          headers: {
            ...(payload ? { 'Content-Type': Buffer.isBuffer(body) ? 'application/x-tar' : 'application/json', 'Content-Length': payload.length } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const data = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, json: () => JSON.parse(data.toString()) });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => killGroup(child.pid), 10_000);
      await exited;
      clearTimeout(killer);
    }
  };
  try {
    await waitFor(`the service on ${socket}`, async () => ((await api('GET', '/_ping').catch(() => undefined))?.status === 200 ? true : undefined), 20_000);
  } catch (e) {
    await stop();
    env.cleanup();
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  const dockerHost = `unix://${socket}`;
  return {
    ...env,
    socket,
    dockerHost,
    docker: (args, opts = {}) =>
      run('docker', args, { ...opts, env: { ...process.env, DOCKER_HOST: dockerHost, DOCKER_CONFIG: join(env.dir, 'docker-config'), ...opts.env } }),
    api,
    log: () => stderr,
    stop,
    cleanup: () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        spawnSync('sleep', ['0.2'], { timeout: SYNC_TIMEOUT_MS });
      }
      env.cleanup();
    },
  };
}
