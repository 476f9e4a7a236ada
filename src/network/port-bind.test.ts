import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeCalls } from '../util/native.js';
import { bindHostPort } from './port-bind.js';

/** What bindHostPort does, seen from outside: a port bound, held until closed, refused while held. */
async function checkBinds(): Promise<void> {
  const tcp = await bindHostPort('tcp', '127.0.0.1', 0);
  assert.ok(tcp.port > 0);
  assert.ok(tcp.fd !== undefined && fstatSync(tcp.fd).isSocket(), 'the descriptor a monitor inherits');
  await assert.rejects(bindHostPort('tcp', '127.0.0.1', tcp.port), { code: 'EADDRINUSE' });
  // Listening: a client connects to it (the backlog holds the connection unaccepted).
  execFileSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${tcp.port}`]);
  tcp.close();
  tcp.close();
  const again = await bindHostPort('tcp', '127.0.0.1', tcp.port);
  again.close();

  const udp = await bindHostPort('udp', '', 0);
  await assert.rejects(bindHostPort('udp', '127.0.0.1', udp.port), { code: 'EADDRINUSE' });
  udp.close();
  // IPv6 binds IPv6 only: the same IPv4 port stays free.
  const v6 = await bindHostPort('tcp', '::1', 0);
  const v4 = await bindHostPort('tcp', '127.0.0.1', v6.port);
  v4.close();
  v6.close();
  await assert.rejects(bindHostPort('tcp', '192.0.2.1', 0), { code: 'EADDRNOTAVAIL' });
}

// The fallback's child imports this file for checkBindsForTest: it must not run the tests again.
if (!process.env.BERTH_PORT_BIND_CHILD)
  describe('bindHostPort', { timeout: 30_000 }, () => {
    test('with the native addon: binds, holds, refuses a held port with its errno, frees on close', async () => {
      assert.ok(nativeCalls(), 'dist/lib/util/berth-native.node was not built: see scripts/build-native.mjs');
      await checkBinds();
    });

    test("without it (BERTH_NO_NATIVE=1): Node's own sockets do the same", () => {
      const self = fileURLToPath(import.meta.url);
      const script = `import(${JSON.stringify(self)}).then((m) => m.checkBindsForTest())`;
      execFileSync(process.execPath, ['-e', script], { env: { ...process.env, BERTH_NO_NATIVE: '1', BERTH_PORT_BIND_CHILD: '1' }, stdio: 'inherit' });
    });
  });

/** For the child of the fallback's test, which runs without the addon. */
export async function checkBindsForTest(): Promise<void> {
  assert.equal(nativeCalls(), undefined);
  await checkBinds();
}
