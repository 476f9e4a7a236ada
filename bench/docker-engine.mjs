// Starts one Docker API engine for bench/docker-api.sh the way the tests do (dist/lib/testing/docker-engines.js:
// private roots, socket, bridge and registry, the busybox test image loaded), prints one JSON line
// (DOCKER_HOST, the engine's own CLI), and stops it, removing everything it made, on SIGTERM or
// when its standard input closes.
//
//   node bench/docker-engine.mjs dockerd|podman|berth
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { startEngine } = await import(join(repo, 'dist', 'lib', 'testing', 'docker-engines.js'));
const engine = await startEngine(process.argv[2]);
let stopping;
const stop = () => {
  stopping ??= engine.stop().then(() => process.exit(0));
  return stopping;
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
console.log(JSON.stringify({ DOCKER_HOST: engine.env.DOCKER_HOST, DOCKER_CONFIG: engine.env.DOCKER_CONFIG, pid: engine.pid, cli: engine.cliCommand }));
