import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addHostForward, forwardsOf, listHostForwards, removeHostForward, type HostForward } from './slirp-api.js';

/** A stand-in for slirp4netns's API socket: one JSON request per connection, answered once the client shuts its side. */
function fakeSlirp(path: string, forwards: HostForward[]): Promise<Server> {
  let next = 1;
  const server = createServer((conn) => {
    let text = '';
    conn.setEncoding('utf8').on('data', (c: string) => (text += c));
    conn.on('end', () => {
      const req = JSON.parse(text) as { execute: string; arguments?: Record<string, unknown> };
      let answer: object;
      if (req.execute === 'add_hostfwd') {
        const a = req.arguments as Omit<HostForward, 'id'>;
        if (forwards.some((f) => f.host_port === a.host_port)) answer = { error: { desc: 'bad request: add_hostfwd: slirp_add_hostfwd failed' } };
        else {
          forwards.push({ id: next, ...a });
          answer = { return: { id: next++ } };
        }
      } else if (req.execute === 'list_hostfwd') answer = { return: { entries: forwards } };
      else if (req.execute === 'remove_hostfwd') {
        const i = forwards.findIndex((f) => f.id === req.arguments?.['id']);
        answer = i === -1 ? { error: { desc: 'bad request: remove_hostfwd: bad id' } } : (forwards.splice(i, 1), { return: {} });
      } else answer = { error: { desc: 'bad request: unknown execute' } };
      conn.end(JSON.stringify(answer));
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

describe('slirp4netns API client', { timeout: 10_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-slirp-api-'));
  const socket = join(dir, 'api.sock');
  const forwards: HostForward[] = [];
  let server: Server;
  before(async () => (server = await fakeSlirp(socket, forwards)));
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a mapping becomes one forward per port of its range, to the same port at the guest, on every address when none is given', () => {
    const fwds = forwardsOf({ host_ip: '', container_port: 80, host_port: 8080, range: 2, protocol: 'tcp' }, '10.0.2.100');
    assert.deepEqual(fwds, [
      { proto: 'tcp', host_addr: '0.0.0.0', host_port: 8080, guest_addr: '10.0.2.100', guest_port: 8080 },
      { proto: 'tcp', host_addr: '0.0.0.0', host_port: 8081, guest_addr: '10.0.2.100', guest_port: 8081 },
    ]);
  });

  test('forwards are added, listed and removed; a refused one fails in one line naming the port', async () => {
    const fwd = { proto: 'tcp', host_addr: '127.0.0.1', host_port: 18080, guest_addr: '10.0.2.100', guest_port: 18080 };
    const id = await addHostForward(socket, fwd);
    assert.deepEqual(await listHostForwards(socket), [{ id, ...fwd }]);
    await assert.rejects(addHostForward(socket, fwd), /failed to expose port 127\.0\.0\.1:18080\/tcp via slirp4netns: bad request: add_hostfwd/);
    await removeHostForward(socket, id);
    assert.deepEqual(await listHostForwards(socket), []);
    await assert.rejects(removeHostForward(socket, id), /bad id/);
  });

  test('a socket nobody listens on is one line naming it', async () => {
    await assert.rejects(listHostForwards(join(dir, 'none.sock')), /slirp4netns's API at .*none\.sock/);
  });
});
