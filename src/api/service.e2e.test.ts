// The service itself: how it listens, who may connect, the version prefix, and what docker's CLI
// sees of the engine. Each noun's routes have their own tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthService, type BerthService } from '../testing/berth-service.js';
import { berthBin, ok, run, tempDir } from '../testing/cli.js';
import { freePort } from '../testing/registry.js';
import { waitFor } from '../testing/wait.js';

describe('berth system service', { timeout: 5 * 60_000 }, () => {
  let svc: BerthService;
  before(async () => {
    svc = await berthService();
  });
  after(async () => {
    await svc?.stop();
    svc?.cleanup();
  });

  test('the socket is 0660 and answers _ping (GET and HEAD) with the version headers', async () => {
    assert.equal(statSync(svc.socket).mode & 0o777, 0o660);
    const ping = await svc.api('GET', '/_ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.body.toString(), 'OK');
    assert.equal(ping.headers['api-version'], '1.47');
    assert.equal(ping.headers.ostype, 'linux');
    const head = await svc.api('HEAD', '/v1.40/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('versions 1.24 to 1.47 with or without a prefix; Docker’s 400 outside', async () => {
    assert.equal((await svc.api('GET', '/v1.24/version')).json().ApiVersion, '1.47');
    assert.equal((await svc.api('GET', '/version')).json().MinAPIVersion, '1.24');
    const old = await svc.api('GET', '/v1.23/version');
    assert.equal(old.status, 400);
    assert.match(old.json().message, /client version 1\.23 is too old/);
    const unknown = await svc.api('GET', '/v1.41/no/such/thing');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json().message, /page not found/);
  });

  test('docker version and info see berth and its store', async () => {
    const version = await svc.docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Client.APIVersion}}']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout.trim(), /^0\.\d+\.\d+ 1\.47 1\.47$/);
    const info = await svc.docker(['info', '--format', '{{.Images}} {{.DockerRootDir}} {{.CgroupDriver}} {{.OSType}}']);
    assert.equal(info.code, 0, info.stderr);
    assert.equal(info.stdout.trim(), `1 ${svc.root} cgroupfs linux`);
  });

  test('events: what the CLI does shows in the API’s event stream, in Docker’s names', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await svc.ok(['volume', 'create', 'ev-vol']);
    await svc.ok(['volume', 'rm', 'ev-vol']);
    const until = Math.ceil(Date.now() / 1000) + 1;
    const r = await svc.docker([
      'events',
      '--since',
      String(since),
      '--until',
      String(until),
      '--filter',
      'type=volume',
      '--format',
      '{{.Type}} {{.Action}} {{.Actor.ID}}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['volume create ev-vol', 'volume destroy ev-vol']);
  });
});

describe('berth system service: where it listens', { timeout: 2 * 60_000 }, () => {
  test('TCP without TLS is refused in one line; bad URIs and --time too', async () => {
    const t = tempDir();
    try {
      const args = ['--root', join(t.path, 'root'), '--runroot', join(t.path, 'run'), 'system', 'service'];
      const tcp = await run(berthBin, [...args, 'tcp://127.0.0.1:0']);
      assert.equal(tcp.code, 125);
      assert.match(tcp.stderr, /^Error: refusing to serve the API on tcp:\/\/127\.0\.0\.1:0 without TLS/);
      const bad = await run(berthBin, [...args, 'http://x']);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /^Error: invalid service URI "http:\/\/x": only unix:\/\/ and tcp:\/\/ are supported/);
      const time = await run(berthBin, [...args, '--time', 'soon', `unix://${join(t.path, 's.sock')}`]);
      assert.equal(time.code, 125);
      assert.match(time.stderr, /invalid --time "soon"/);
      const group = await run(berthBin, [...args, '--group', 'no-such-group-berth', `unix://${join(t.path, 's.sock')}`]);
      assert.equal(group.code, 125);
      assert.match(group.stderr, /^Error: --group no-such-group-berth: no such group in \/etc\/group$/m);
    } finally {
      t.cleanup();
    }
  });

  test('a live socket is not taken over; the service ends after --time idle seconds and removes its socket', async () => {
    const t = tempDir();
    try {
      const args = ['--root', join(t.path, 'root'), '--runroot', join(t.path, 'run'), 'system', 'service'];
      const sock = join(t.path, 'idle.sock');
      const started = Date.now();
      const first = spawn(berthBin, [...args, '--time', '2', `unix://${sock}`], { stdio: 'ignore' });
      const firstDone = new Promise<number | null>((resolve) => first.once('exit', resolve));
      await waitFor('the first service’s socket', () => (existsSync(sock) ? true : undefined), 20_000);
      // The second one sees the first answering there and refuses.
      const second = await run(berthBin, [...args, '--time', '1', `unix://${sock}`]);
      assert.equal(second.code, 125);
      assert.match(second.stderr, /another service is listening there/);
      assert.equal(await firstDone, 0);
      assert.ok(Date.now() - started >= 2000, 'it ended before its idle time');
      assert.throws(() => statSync(sock), /ENOENT/);
    } finally {
      t.cleanup();
    }
  });

  test('TCP with TLS: a client with a certificate the CA signed gets in, one without does not', async () => {
    const t = tempDir();
    const certs = t.path;
    const o = (args: string[]) => ok('openssl', args, { cwd: certs });
    const signed = async (name: string, cn: string, ext: string) => {
      await o(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
      writeFileSync(join(certs, `${name}.cnf`), ext);
      await o([
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        `${name}.cnf`,
        '-out',
        `${name}.pem`,
      ]);
    };
    let service: ReturnType<typeof spawn> | undefined;
    try {
      await o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=berth test CA', '-keyout', 'ca.key', '-out', 'ca.pem']);
      await signed('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      await signed('client', 'client', 'extendedKeyUsage=clientAuth\n');
      // docker's --tlsverify reads ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH.
      mkdirSync(join(certs, 'docker'));
      copyFileSync(join(certs, 'ca.pem'), join(certs, 'docker', 'ca.pem'));
      copyFileSync(join(certs, 'client.pem'), join(certs, 'docker', 'cert.pem'));
      copyFileSync(join(certs, 'client.key'), join(certs, 'docker', 'key.pem'));
      const port = await freePort();
      const args = ['--root', join(t.path, 'root'), '--runroot', join(t.path, 'run'), 'system', 'service', '--time', '0'];
      const tls = ['--tls-cert', join(certs, 'server.pem'), '--tls-key', join(certs, 'server.key'), '--tls-ca', join(certs, 'ca.pem')];
      service = spawn(berthBin, [...args, ...tls, `tcp://127.0.0.1:${port}`], { stdio: 'ignore' });
      const docker = (env: NodeJS.ProcessEnv) =>
        run('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, ...env } });
      const trusted = await waitFor(
        'the TLS service',
        async () => {
          const r = await docker({ DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(certs, 'docker') });
          return r.code === 0 ? r : undefined;
        },
        20_000,
      );
      assert.match(trusted.stdout, /^0\.\d+\.\d+\n$/);
      // With the CA but no client certificate, the handshake fails.
      const anonymous = await run('curl', ['-sS', '--cacert', join(certs, 'ca.pem'), `https://127.0.0.1:${port}/_ping`]);
      assert.notEqual(anonymous.code, 0);
      assert.doesNotMatch(anonymous.stdout, /OK/);
      // TLS with only some of the three files is refused before anything listens.
      const partial = await run(berthBin, [...args, '--tls-cert', join(certs, 'server.pem'), `tcp://127.0.0.1:${port}`]);
      assert.equal(partial.code, 125);
      assert.match(partial.stderr, /^Error: --tls-cert, --tls-key and --tls-ca go together/);
    } finally {
      service?.kill('SIGKILL');
      t.cleanup();
    }
  });
});
