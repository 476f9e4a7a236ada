import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isBerthError } from '../util/errors.js';
import { isLoopbackAddress, resolveListenAddress, type LookupAll } from './listen.js';
import { startRegistry } from './server.js';

/** A resolver from a fixed table; names not in it fail as the system's would. */
function fakeLookup(table: Record<string, string[]>): LookupAll & { asked: string[] } {
  const asked: string[] = [];
  const fn = async (host: string) => {
    asked.push(host);
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
  return Object.assign(fn, { asked });
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-listen-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('registry listen address', { timeout: 30_000 }, () => {
  it('knows loopback addresses from the rest, wildcards included', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:2']) assert.equal(isLoopbackAddress(ip), true, ip);
    for (const ip of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.20', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'fe80::1', 'localhost', '127.example', '']) {
      assert.equal(isLoopbackAddress(ip), false, ip);
    }
  });

  it('resolves a name and calls it loopback only when every address is', async () => {
    const lookup = fakeLookup({
      localhost: ['127.0.0.1', '::1'],
      // Names that the old check (a name starting with "127." or "localhost") let through.
      '127.0.0.1.nip.example': ['203.0.113.7'],
      'localhost.lan': ['192.168.1.20'],
      'split.example': ['127.0.0.1', '192.168.1.20'],
    });
    assert.deepEqual(await resolveListenAddress('localhost', lookup), { address: '127.0.0.1', loopback: true });
    assert.deepEqual(await resolveListenAddress('127.0.0.1.nip.example', lookup), { address: '203.0.113.7', loopback: false });
    assert.deepEqual(await resolveListenAddress('localhost.lan', lookup), { address: '192.168.1.20', loopback: false });
    assert.deepEqual(await resolveListenAddress('split.example', lookup), { address: '127.0.0.1', loopback: false });
    // IP addresses are taken as they are, without asking the resolver.
    lookup.asked.length = 0;
    assert.deepEqual(await resolveListenAddress('::1', lookup), { address: '::1', loopback: true });
    assert.deepEqual(await resolveListenAddress('0.0.0.0', lookup), { address: '0.0.0.0', loopback: false });
    assert.deepEqual(await resolveListenAddress('::', lookup), { address: '::', loopback: false });
    assert.deepEqual(lookup.asked, []);
    await assert.rejects(
      resolveListenAddress('nowhere.invalid', lookup),
      (e) => isBerthError(e, 'USAGE') && /cannot resolve the listen host "nowhere\.invalid"/.test(e.message),
    );
  });

  it('refuses, before opening anything, to serve without access control where a name resolves off loopback', () =>
    withDir(async (dir) => {
      const lookup = fakeLookup({ '127.0.0.1.nip.example': ['203.0.113.7'], 'split.example': ['127.0.0.1', '192.168.1.20'] });
      for (const addr of ['127.0.0.1.nip.example:0', 'split.example:0', '0.0.0.0:0', '[::]:0', ':0']) {
        await assert.rejects(
          startRegistry({ addr, storage: join(dir, 'storage'), lookup }),
          (e) => isBerthError(e, 'USAGE') && /^refusing to listen on .* without access control/.test(e.message),
          addr,
        );
      }
      assert.deepEqual(await readdir(dir), [], 'no storage was opened');
    }));

  it('serves on loopback names and addresses, binding the address the name resolved to', () =>
    withDir(async (dir) => {
      const lookup = fakeLookup({ 'registry.test': ['127.0.0.3'] });
      // localhost through the system's resolver: 127.0.0.1 or ::1, whichever it gives first.
      for (const [addr, expected] of [
        ['registry.test:0', '127.0.0.3'],
        ['localhost:0', undefined],
        ['127.0.0.1:0', '127.0.0.1'],
        ['[::1]:0', '::1'],
      ] as const) {
        const r = await startRegistry({ addr, storage: join(dir, 'storage'), ...(addr.startsWith('registry.test') ? { lookup } : {}) });
        try {
          if (expected) assert.equal(r.address, expected, addr);
          assert.equal(isLoopbackAddress(r.address), true, addr);
          assert.equal(r.loopback, true, addr);
          const res = await fetch(`http://${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}/v2/`);
          assert.equal(res.status, 200, addr);
        } finally {
          await r.close();
        }
      }
    }));
});
