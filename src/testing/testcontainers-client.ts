/**
 * A testcontainers-node program, as a project's test suite would write one, run as a process of its
 * own against the engine in DOCKER_HOST (testcontainers picks its engine once per process). It prints
 * one JSON line of what it saw; src/api/testcontainers.e2e.test.ts checks it.
 *
 * Steps: a network; a GenericContainer from a local image with an exposed port, a network alias and
 * an HTTP wait strategy; its page from the host through the mapped port; a second container that
 * reaches the first by its alias; an exec with its exit code; stop, and the network removed.
 */
import { GenericContainer, Network, Wait } from 'testcontainers';

const image = process.argv[2];
if (!image) throw new Error('usage: testcontainers-client.js IMAGE');

const network = await new Network().start();
const server = await new GenericContainer(image)
  .withCommand(['sh', '-c', 'mkdir -p /www && echo from testcontainers > /www/index.html && exec httpd -f -p 80 -h /www'])
  .withExposedPorts(80)
  .withNetwork(network)
  .withNetworkAliases('web')
  .withWaitStrategy(Wait.forHttp('/', 80).forStatusCode(200))
  .withStartupTimeout(60_000)
  .start();
const client = await new GenericContainer(image).withCommand(['sleep', '300']).withNetwork(network).start();
try {
  const page = await fetch(`http://${server.getHost()}:${server.getMappedPort(80)}/`).then((r) => r.text());
  const byAlias = await client.exec(['sh', '-c', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 web 80']);
  const exec = await server.exec(['sh', '-c', 'echo $((6 * 7)); exit 3']);
  const serverId = server.getId();
  const networkName = network.getName();
  await client.stop();
  const stopped = await server.stop();
  await network.stop();
  console.log(
    JSON.stringify({
      host: server.getHost(),
      page,
      byAlias: { exitCode: byAlias.exitCode, body: byAlias.output.split('\r\n\r\n')[1] ?? '' },
      exec: { exitCode: exec.exitCode, output: exec.output },
      serverId,
      stoppedId: stopped.getId(),
      networkName,
    }),
  );
} catch (e) {
  await client.stop().catch(() => undefined);
  await server.stop().catch(() => undefined);
  await network.stop().catch(() => undefined);
  throw e;
}
