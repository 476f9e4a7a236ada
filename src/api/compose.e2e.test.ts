import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../testing/cli.js';
import { type DockerEngine, TEST_IMAGE } from '../testing/docker-engines.js';
import { httpGet, podmanDiffers, type Scenario, scenariosPerEngine } from '../testing/docker-scenarios.js';
import { freePort } from '../testing/registry.js';
import { waitFor } from '../testing/wait.js';

/**
 * docker-compose 1.29 (Debian's, a Python client of the Docker API) bringing up the issue's
 * two-service project on each engine: a user network with a subnet, a named volume, a published
 * port, `depends_on` a healthy service, environment, and a service built from a Dockerfile.
 */

interface Project {
  dir: string;
  name: string;
  port: number;
}

async function writeProject(e: DockerEngine): Promise<Project> {
  const dir = join(e.dir, 'compose-project');
  mkdirSync(join(dir, 'api'), { recursive: true });
  const port = await freePort();
  const name = `berthcompose${process.pid}`;
  // The api service: built here, it writes its page into the volume at start and is healthy once
  // the page is there.
  writeFileSync(
    join(dir, 'api', 'Dockerfile'),
    `FROM ${TEST_IMAGE}\nCOPY start.sh /start.sh\nRUN chmod +x /start.sh\nLABEL suite=compose\nCMD ["/start.sh"]\n`,
  );
  writeFileSync(
    join(dir, 'api', 'start.sh'),
    '#!/bin/sh\nmkdir -p /data\necho "$GREETING from api" > /data/index.html\necho "api serving $GREETING"\nexec httpd -f -p 8080 -h /data\n',
  );
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    `version: "2.4"
services:
  api:
    build: ./api
    image: ${name}-api:latest
    # An init as PID 1, so httpd gets and obeys down's SIGTERM (as PID 1 it would ignore it and be
    # killed only after the 10 s grace).
    init: true
    environment:
      GREETING: hello
    volumes:
      - pages:/data
    networks:
      - back
    healthcheck:
      test: ["CMD", "test", "-s", "/data/index.html"]
      interval: 1s
      timeout: 2s
      retries: 30
  web:
    image: ${TEST_IMAGE}
    init: true
    depends_on:
      api:
        condition: service_healthy
    environment:
      - UPSTREAM=api
    ports:
      - "127.0.0.1:${port}:80"
    volumes:
      - pages:/www:ro
    networks:
      - back
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
volumes:
  pages: {}
networks:
  back:
    ipam:
      config:
        - subnet: ${e.subnet(3)}
`,
  );
  return { dir, name, port };
}

function compose(e: DockerEngine, p: Project, args: string[], timeoutMs = 180_000) {
  return run('docker-compose', ['-p', p.name, '-f', join(p.dir, 'docker-compose.yml'), '--no-ansi', ...args], {
    cwd: p.dir,
    env: { ...e.env, COMPOSE_INTERACTIVE_NO_CLI: '1' },
    timeoutMs,
  });
}

async function composeOk(e: DockerEngine, p: Project, args: string[], timeoutMs?: number) {
  const r = await compose(e, p, args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker-compose ${args.join(' ')} (${e.kind}) exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** Runs the container's healthcheck through the engine's own CLI every second until stopped. */
function healthTimer(e: DockerEngine, container: string): { stop: () => void } {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      await e.cli(['healthcheck', 'run', container], { timeoutMs: 30_000 }).catch(() => undefined);
      await sleep(1_000);
    }
  })();
  return { stop: () => (stopped = true) };
}

const scenarios: Record<string, Scenario> = {
  'up -d, a request by service name, the published port, logs, ps, exec, down -v': async (e) => {
    const p = await writeProject(e);
    try {
      // podman 4.3 runs healthchecks from systemd timers, and this host has no systemd: nothing would
      // ever run api's check, and compose would wait for service_healthy forever. The test stands in
      // for the timer (`podman healthcheck run` every second) while `up` waits; dockerd runs its own.
      const timer = podmanDiffers(e) ? healthTimer(e, `${p.name}_api_1`) : undefined;
      try {
        await composeOk(e, p, ['up', '-d', '--build'], 180_000);
      } finally {
        timer?.stop();
      }
      // depends_on service_healthy: web was started only once api was healthy.
      const health = (await e.dockerOk(['inspect', '--format', '{{.State.Health.Status}}', `${p.name}_api_1`])).stdout.trim();
      assert.equal(health, 'healthy');
      // From the host through web's published port (web serves the volume api wrote).
      assert.equal(await httpGet(p.port), 'hello from api\n');
      // From web to api by its service name on the project's network.
      const byName = await waitFor(
        'web to reach api by name',
        async () => {
          const r = await compose(e, p, ['exec', '-T', 'web', 'sh', '-c', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 "$UPSTREAM" 8080']);
          return r.code === 0 && r.stdout.includes('\r\n\r\n') ? r.stdout.split('\r\n\r\n')[1] : undefined;
        },
        30_000,
      );
      assert.equal(byName, 'hello from api\n');
      const ps = await composeOk(e, p, ['ps']);
      assert.match(ps.stdout, new RegExp(`${p.name}_api_1 .*Up \\(healthy\\)`));
      assert.match(ps.stdout, new RegExp(`${p.name}_web_1 .*Up .*127\\.0\\.0\\.1:${p.port}->80/tcp`));
      const ids = (await composeOk(e, p, ['ps', '-q'])).stdout.trim().split('\n');
      assert.equal(ids.length, 2);
      const exec = await compose(e, p, ['exec', '-T', 'api', 'sh', '-c', 'echo $GREETING; exit 6']);
      assert.equal(exec.stdout, 'hello\n');
      assert.equal(exec.code, 6);
      const logs = await composeOk(e, p, ['logs', '--no-color', 'api']);
      assert.match(logs.stdout, /^api_1 +\| api serving hello$/m);
      const net = JSON.parse((await e.dockerOk(['network', 'inspect', `${p.name}_back`])).stdout)[0] as Record<string, any>;
      assert.equal(net.IPAM.Config[0].Subnet, e.subnet(3));
      const down = Date.now();
      await composeOk(e, p, ['down', '-v']);
      // With the inits, both services stop on SIGTERM at once, well inside the 10 s grace each.
      assert.ok(Date.now() - down < 15_000, `down -v took ${Date.now() - down} ms`);
      const label = `label=com.docker.compose.project=${p.name}`;
      assert.equal((await e.dockerOk(['ps', '-aq', '--filter', label])).stdout, '');
      assert.equal((await e.dockerOk(['volume', 'ls', '-q', '--filter', label])).stdout, '');
      assert.equal((await e.dockerOk(['network', 'ls', '-q', '--filter', label])).stdout, '');
      assert.equal((await e.docker(['network', 'inspect', `${p.name}_back`])).code, 1);
    } finally {
      await compose(e, p, ['down', '-v', '--rmi', 'local', '-t', '0']);
    }
  },
};

scenariosPerEngine('docker-compose', scenarios, { timeoutMs: 600_000 });
