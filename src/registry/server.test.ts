import assert from 'node:assert/strict';
import { get } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ok } from '../testing/cli.js';
import { loadRegistryConfig, mergeRegistryConfig, parseAddr } from './config.js';
import { startRegistry } from './server.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-cfg-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('registry config and server', () => {
  it('loads the TOML config, with paths relative to the file, and flags override it', () =>
    withDir(async (dir) => {
      const file = join(dir, 'registry.toml');
      await writeFile(
        file,
        '[http]\naddr = "0.0.0.0:5001"\n[storage]\npath = "data"\n[limits]\nmanifest_bytes = 1048576\n[tls]\ncert = "c.pem"\nkey = "/abs/k.pem"\n',
      );
      const config = await loadRegistryConfig(file);
      assert.deepEqual(config, { addr: '0.0.0.0:5001', storage: join(dir, 'data'), tlsCert: join(dir, 'c.pem'), tlsKey: '/abs/k.pem', manifestBytes: 1048576 });
      assert.deepEqual(mergeRegistryConfig(config, { addr: '127.0.0.1:0', storage: undefined }), { ...config, addr: '127.0.0.1:0' });
    }));

  it('refuses unknown keys, half a TLS setup and bad values', () =>
    withDir(async (dir) => {
      const file = join(dir, 'bad.toml');
      for (const [text, why] of [
        ['[http]\nadress = "x"\n', /unknown key "adress" in \[http\]/],
        ['[authz]\n', /unknown section \[authz\]/],
        ['[tls]\ncert = "c.pem"\n', /needs both cert and key/],
        ['[limits]\nmanifest_bytes = -1\n', /positive integer/],
        ['[http\n', /registry config/],
      ] as const) {
        await writeFile(file, text);
        await assert.rejects(loadRegistryConfig(file), why);
      }
    }));

  it('parses listen addresses', () => {
    assert.deepEqual(parseAddr('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
    assert.deepEqual(parseAddr(':5000'), { host: '0.0.0.0', port: 5000 });
    assert.deepEqual(parseAddr('[::1]:0'), { host: '::1', port: 0 });
    assert.throws(() => parseAddr('localhost'), /host:port/);
    assert.throws(() => parseAddr('h:99999'), /host:port/);
  });

  it('serves over TLS with the given certificate', () =>
    withDir(async (dir) => {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      await ok('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1']);
      const r = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'storage'), tlsCert: cert, tlsKey: key });
      try {
        assert.match(r.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const status = await new Promise<{ code: number; version: string }>((done, fail) => {
          get(`${r.url}/v2/`, { rejectUnauthorized: false }, (res) => {
            res.resume();
            done({ code: res.statusCode ?? 0, version: String(res.headers['docker-distribution-api-version']) });
          }).on('error', fail);
        });
        assert.deepEqual(status, { code: 200, version: 'registry/2.0' });
      } finally {
        await r.close();
      }
    }));

  it('refuses to start on an address in use', () =>
    withDir(async (dir) => {
      const a = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'a') });
      try {
        await assert.rejects(startRegistry({ addr: `127.0.0.1:${a.port}`, storage: join(dir, 'b') }), /EADDRINUSE/);
      } finally {
        await a.close();
      }
    }));
});
