import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { ok } from '../../testing/cli.js';
import { errorCode } from '../_testing.js';
import { loadRegistryConfig } from '../config.js';
import { Htpasswd } from './htpasswd.js';
import { matchPattern } from './config.js';
import { parseScopes } from './tokens.js';
import { basic, bearer, pushImageAs, USERS, withAuthRegistry } from './_testing.js';

/** A token from the built-in endpoint, as a docker client asks for it. */
async function getToken(
  url: string,
  scopes: string[],
  creds?: [string, string],
): Promise<{ status: number; token?: string; payload?: Record<string, unknown> }> {
  const q = new URLSearchParams({ service: 'berth-test' });
  for (const s of scopes) q.append('scope', s);
  const res = await fetch(`${url}/token?${q}`, { headers: creds ? basic(...creds) : {} });
  if (res.status !== 200) return { status: res.status };
  const body = (await res.json()) as { token: string; access_token: string };
  assert.equal(body.token, body.access_token);
  return { status: 200, token: body.token, payload: JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown> };
}

const manifestOf = (url: string, repo: string, headers: Record<string, string> = {}) => fetch(`${url}/v2/${repo}/manifests/v1`, { headers });

describe('registry access control: htpasswd users and rules', () => {
  it('checks users: good password, bad password, unknown user; 401 carries the Basic challenge', () =>
    withAuthRegistry({ token: false }, async ({ registry: r }) => {
      const base = (h: Record<string, string>) => fetch(`${r.url}/v2/`, { headers: h });
      assert.equal((await base(basic('alice', USERS.alice))).status, 200);
      for (const h of [basic('alice', 'wrong'), basic('mallory', 'x'), {}]) {
        const res = await base(h);
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('www-authenticate'), 'Basic realm="berth-registry"');
        assert.equal(await errorCode(res), 'UNAUTHORIZED');
      }
    }));

  it('applies rules per repository: anonymous pull of public, 401 for private, 403 without push', () =>
    withAuthRegistry({ token: false }, async ({ registry: r }) => {
      const alice = basic('alice', USERS.alice);
      const bob = basic('bob', USERS.bob);
      await pushImageAs(r.url, 'public/app', 'v1', alice);
      await pushImageAs(r.url, 'private/app', 'v1', alice);
      await assert.rejects(pushImageAs(r.url, 'private/app', 'v2', bob), /403/);
      assert.equal((await manifestOf(r.url, 'public/app')).status, 200, 'anonymous pull of a public repository');
      const priv = await manifestOf(r.url, 'private/app');
      assert.equal(priv.status, 401);
      assert.equal(priv.headers.get('www-authenticate'), 'Basic realm="berth-registry"');
      assert.equal((await manifestOf(r.url, 'private/app', alice)).status, 200);
      const bobPriv = await manifestOf(r.url, 'private/app', bob);
      assert.equal(bobPriv.status, 403);
      assert.equal(await errorCode(bobPriv), 'DENIED');
      // bob may pull public but not push there; he may push to bob/*.
      const push = await fetch(`${r.url}/v2/public/app/blobs/uploads/`, { method: 'POST', headers: bob });
      assert.equal(push.status, 403);
      assert.equal((await fetch(`${r.url}/v2/bob/app/blobs/uploads/`, { method: 'POST', headers: bob })).status, 202);
      // A cross-repository mount needs pull on the source too.
      const mount = await fetch(`${r.url}/v2/bob/app/blobs/uploads/?mount=sha256:${'1'.repeat(64)}&from=private/app`, { method: 'POST', headers: bob });
      assert.equal(mount.status, 403);
      // Unmatched repositories are nobody's; the catalog is alice's only; delete needs the delete rule.
      assert.equal((await fetch(`${r.url}/v2/other/x/tags/list`, { headers: alice })).status, 403);
      assert.equal((await fetch(`${r.url}/v2/_catalog`, { headers: bob })).status, 403);
      assert.equal((await fetch(`${r.url}/v2/_catalog`, { headers: alice })).status, 200);
      assert.equal((await fetch(`${r.url}/v2/bob/app/manifests/v1`, { method: 'DELETE', headers: bob })).status, 403);
      assert.equal((await fetch(`${r.url}/v2/public/app/manifests/v1`, { method: 'DELETE' })).status, 401);
      assert.equal((await fetch(`${r.url}/v2/public/app/manifests/v1`, { method: 'DELETE', headers: alice })).status, 202);
    }));

  it('takes htpasswd -B files and has every check cost a bcrypt comparison', () =>
    withAuthRegistry({ token: false }, async ({ dir }) => {
      const file = join(dir, 'cli.htpasswd');
      await ok('htpasswd', ['-B', '-b', '-c', file, 'carol', 'carol-pw']);
      const h = await Htpasswd.open(file);
      assert.equal(await h.verify('carol', 'carol-pw'), true);
      assert.equal(await h.verify('carol', 'nope'), false);
      const t0 = performance.now();
      assert.equal(await h.verify('nobody', 'x'), false);
      assert.ok(performance.now() - t0 > 0.2, 'an unknown user still costs a comparison');
    }));
});

describe('registry access control: tokens', () => {
  it('runs the token flow: challenge with scope, token with only what the rules allow, access with it', () =>
    withAuthRegistry({ token: true }, async ({ registry: r }) => {
      const challenge = (await fetch(`${r.url}/v2/private/app/blobs/uploads/`, { method: 'POST' })).headers.get('www-authenticate');
      assert.equal(challenge, `Bearer realm="${r.url}/token",service="berth-test",scope="repository:private/app:pull,push"`);
      assert.equal((await fetch(`${r.url}/v2/`)).headers.get('www-authenticate'), `Bearer realm="${r.url}/token",service="berth-test"`);

      const t = await getToken(r.url, ['repository:bob/app:pull,push,delete', 'repository:private/app:pull', 'registry:catalog:*'], ['bob', USERS.bob]);
      assert.deepEqual(t.payload!['access'], [{ type: 'repository', name: 'bob/app', actions: ['pull', 'push'] }]);
      for (const claim of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']) assert.ok(t.payload![claim] !== undefined, claim);
      assert.equal(t.payload!['sub'], 'bob');
      assert.equal(t.payload!['aud'], 'berth-test');
      assert.equal(t.payload!['iss'], 'berth-test-issuer');
      const digest = await uploadBlobWith(r.url, 'bob/app', 'some bytes', bearer(t.token!));
      assert.match(digest, /^sha256:/);
      // bob's token does not reach private/app, and no token of his could: 403. A foreign scope of an anonymous token: 401.
      assert.equal((await manifestOf(r.url, 'private/app', bearer(t.token!))).status, 403);
      const anon = await getToken(r.url, ['repository:public/app:pull,push', 'repository:private/app:pull']);
      assert.deepEqual(anon.payload!['access'], [{ type: 'repository', name: 'public/app', actions: ['pull'] }]);
      const res = await manifestOf(r.url, 'private/app', bearer(anon.token!));
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate')!, /error="insufficient_scope"/);
      // A wrong password gets no token.
      assert.equal((await getToken(r.url, [], ['bob', 'wrong'])).status, 401);
      assert.equal((await getToken(r.url, [], ['nobody', 'x'])).status, 401);
      const alice = await getToken(r.url, ['registry:catalog:*'], ['alice', USERS.alice]);
      assert.equal((await fetch(`${r.url}/v2/_catalog`, { headers: bearer(alice.token!) })).status, 200);
    }));

  it('accepts tokens of the external issuer, refuses wrongly signed, expired and foreign-audience ones', () =>
    withAuthRegistry({ token: true }, async ({ registry: r, externalKey }) => {
      const sign = async (key: string | ReturnType<typeof createPrivateKey>, claims: { aud?: string; iss?: string; exp?: number }) => {
        const k = typeof key === 'string' ? createPrivateKey(key) : key;
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ access: [{ type: 'repository', name: 'private/app', actions: ['pull', 'push'] }] })
          .setProtectedHeader({ alg: k.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256' })
          .setIssuer(claims.iss ?? 'berth-test-issuer')
          .setSubject('ext-user')
          .setAudience(claims.aud ?? 'berth-test')
          .setIssuedAt(now - 10)
          .setExpirationTime(claims.exp ?? now + 60)
          .sign(k);
      };
      const good = await sign(externalKey, {});
      assert.equal((await fetch(`${r.url}/v2/private/app/blobs/uploads/`, { method: 'POST', headers: bearer(good) })).status, 202);
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      for (const bad of [
        await sign(stranger, {}),
        await sign(externalKey, { exp: Math.floor(Date.now() / 1000) - 120 }),
        await sign(externalKey, { aud: 'another-service' }),
        await sign(externalKey, { iss: 'someone-else' }),
        'not.a.token',
      ]) {
        const res = await fetch(`${r.url}/v2/private/app/tags/list`, { headers: bearer(bad) });
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
      }
    }));
});

async function uploadBlobWith(url: string, repo: string, data: string, headers: Record<string, string>): Promise<string> {
  const { digestOf } = await import('../../oci/digest.js');
  const digest = digestOf(data);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data, headers });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

describe('registry access control: config', () => {
  it('refuses unknown keys and bad values with one line', () =>
    withAuthRegistry({ token: false }, async ({ dir }) => {
      const file = join(dir, 'bad.toml');
      for (const [text, why] of [
        ['[auth]\nhtpasswrd = "x"\n', /unknown key "htpasswrd" in \[auth\]/],
        ['[[access]]\nrepository = "a/*"\npul = ["*"]\n', /unknown key "pul" in \[\[access\]\] #1/],
        ['[[access]]\npull = ["*"]\n', /needs a repository pattern/],
        ['[[access]]\nrepository = "A B"\n', /not a repository name pattern/],
        ['[[access]]\nrepository = "a"\npush = "alice"\n', /must be a list of user names/],
        ['[auth.token]\nkey = "k.pem"\n', /needs a service/],
        ['[auth.token]\nservice = "s"\npublic_key = "p.pem"\n', /needs its realm/],
        ['[auth.token]\nservice = "s"\nkey = "k"\nexpiry = "soon"\n', /expiry must be a duration/],
        ['[gc]\ninterval = "often"\n', /gc.interval must be a duration/],
        ['[gc]\nsweep = true\n', /unknown key "sweep" in \[gc\]/],
      ] as const) {
        await writeFile(file, text);
        await assert.rejects(loadRegistryConfig(file), (e: Error) => why.test(e.message) && !e.message.includes('\n'));
      }
    }));

  it('matches repository patterns and parses scopes', () => {
    assert.ok(matchPattern('team/*', 'team/app'));
    assert.ok(!matchPattern('team/*', 'team/a/b'));
    assert.ok(matchPattern('team/**', 'team/a/b'));
    assert.ok(matchPattern('**', 'x'));
    assert.ok(!matchPattern('team.x/*', 'teamyx/a'));
    assert.deepEqual(parseScopes(['repository:a/b:pull,push registry:catalog:*', 'repository:host:5000/c:pull']), [
      { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'host:5000/c', actions: ['pull'] },
    ]);
  });
});
