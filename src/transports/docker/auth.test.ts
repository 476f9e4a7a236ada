import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../util/errors.js';
import { Authenticator, parseWWWAuthenticate } from './auth.js';
import { RegistryClient } from './client.js';

describe('WWW-Authenticate parsing', () => {
  it('reads a Bearer challenge with quoted parameters', () => {
    assert.deepEqual(
      parseWWWAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"'),
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' } }],
    );
  });

  it('reads several challenges, spaces, unquoted values and escapes', () => {
    assert.deepEqual(parseWWWAuthenticate('Basic realm="Registry Realm", Bearer realm=https://x/token , service = "a\\"b",error="insufficient_scope"'), [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
      { scheme: 'bearer', params: { realm: 'https://x/token', service: 'a"b', error: 'insufficient_scope' } },
    ]);
  });

  it('takes a scheme alone and ignores junk', () => {
    assert.deepEqual(parseWWWAuthenticate('Negotiate'), [{ scheme: 'negotiate', params: {} }]);
    assert.deepEqual(parseWWWAuthenticate(''), []);
    assert.deepEqual(parseWWWAuthenticate('BASIC REALM="r"'), [{ scheme: 'basic', params: { realm: 'r' } }]);
  });
});

describe('the Bearer flow', () => {
  it('fetches tokens for the scopes asked, reuses them until expiry and sends Basic credentials to the realm', async () => {
    const tokenRequests: { scope: string[]; auth: string | undefined }[] = [];
    let port = 0;
    const server = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      if (u.pathname === '/token') {
        tokenRequests.push({ scope: u.searchParams.getAll('scope'), auth: req.headers.authorization });
        if (req.headers.authorization !== `Basic ${Buffer.from('alice:secret').toString('base64')}`) return res.writeHead(401).end();
        return res.end(JSON.stringify({ token: `t-${u.searchParams.getAll('scope').join('+')}`, expires_in: 300 }));
      }
      const challenge = `Bearer realm="http://127.0.0.1:${port}/token",service="test"`;
      if (!req.headers.authorization?.startsWith('Bearer t-')) return res.writeHead(401, { 'WWW-Authenticate': challenge }).end();
      if (u.pathname === '/v2/') return res.end('{}');
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ name: 'repo', tags: ['x'] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    after(() => server.close());

    const client = await RegistryClient.open(`127.0.0.1:${port}`, { creds: { username: 'alice', password: 'secret' }, certDir: '/nonexistent' });
    assert.deepEqual(await client.listTags('repo'), ['x']);
    assert.deepEqual(await client.listTags('repo'), ['x']);
    assert.equal(tokenRequests.length, 1, 'the token is reused');
    assert.deepEqual(tokenRequests[0]!.scope, ['repository:repo:pull']);
    await client.checkAuth();
    client.close();

    const pusher = await RegistryClient.open(`127.0.0.1:${port}`, { creds: { username: 'alice', password: 'secret' }, push: true, certDir: '/nonexistent' });
    await pusher.listTags('other');
    assert.deepEqual(tokenRequests.at(-1)!.scope, ['repository:other:pull,push'], 'a pushing client asks for pull,push');
    pusher.close();

    const wrong = await RegistryClient.open(`127.0.0.1:${port}`, { creds: { username: 'alice', password: 'nope' }, certDir: '/nonexistent' });
    await assert.rejects(wrong.checkAuth(), (e: unknown) => isBerthError(e, 'UNAUTHORIZED') && /invalid username\/password/.test(e.message));
    wrong.close();
  });

  it('asks again when a cached token has expired', async () => {
    let calls = 0;
    const auth = new Authenticator('r', undefined, async () => {
      calls++;
      return { status: 200, body: Buffer.from(JSON.stringify({ token: `t${calls}`, expires_in: 1, issued_at: new Date(Date.now() - 10_000).toISOString() })) };
    });
    auth.setChallenge('Bearer realm="https://r/token"');
    assert.equal(await auth.authorization(['repository:a:pull']), 'Bearer t1');
    assert.equal(await auth.authorization(['repository:a:pull']), 'Bearer t2');
    assert.equal(calls, 2);
  });

  it('uses Basic credentials when the registry asks for Basic', async () => {
    const auth = new Authenticator('r', { username: 'u', password: 'p', identityToken: '' }, async () => assert.fail('no token request'));
    auth.setChallenge('Basic realm="registry"');
    assert.equal(await auth.authorization([]), `Basic ${Buffer.from('u:p').toString('base64')}`);
  });
});
