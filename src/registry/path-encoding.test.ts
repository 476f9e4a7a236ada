import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorCode, withRegistry } from './_testing.js';
import { basic, USERS, withAuthRegistry } from './auth/_testing.js';

// Paths whose name or ref does not percent-decode (or breaks the name grammar): each is the client's
// mistake, a 400 with the spec's error body, never a 500 with a stack trace in the log.
const MALFORMED: [method: string, path: string, code: string][] = [
  ['GET', '/v2/foo%zz/manifests/latest', 'NAME_INVALID'],
  ['GET', '/v2/foo/manifests/lat%zz', 'MANIFEST_INVALID'],
  ['GET', '/v2/foo/manifests/%E0%A4%A', 'MANIFEST_INVALID'],
  ['HEAD', '/v2/foo/manifests/sha256%3A%E0%A4%A', 'DIGEST_INVALID'],
  ['PUT', '/v2/foo/manifests/v1%', 'MANIFEST_INVALID'],
  ['DELETE', '/v2/foo/manifests/sha256:%zz', 'DIGEST_INVALID'],
  ['GET', '/v2/foo/blobs/%E0%A4%A', 'DIGEST_INVALID'],
  ['GET', '/v2/foo/referrers/sha256:%zz', 'DIGEST_INVALID'],
  ['PATCH', '/v2/foo/blobs/uploads/%zz', 'BLOB_UPLOAD_INVALID'],
  ['GET', '/v2/foo%E0%A4%A/tags/list', 'NAME_INVALID'],
];

/** Everything a registry hands to onInternalError while `fn` runs against it. */
async function withWatchedRegistry(fn: (url: string) => Promise<void>): Promise<unknown[]> {
  const internal: unknown[] = [];
  await withRegistry(({ url }) => fn(url), { onInternalError: (e) => internal.push(e) });
  return internal;
}

describe('registry: malformed percent-encoding in the path', { timeout: 60_000 }, () => {
  it('answers 400 with the spec error for the part that does not parse, and reports no internal error', async () => {
    const internal = await withWatchedRegistry(async (url) => {
      for (const [method, path, code] of MALFORMED) {
        const res = await fetch(url + path, { method, ...(method === 'PUT' || method === 'PATCH' ? { body: '{}' } : {}) });
        assert.equal(res.status, 400, `${method} ${path}`);
        if (method === 'HEAD') continue;
        assert.equal(res.headers.get('content-type'), 'application/json', `${method} ${path}`);
        assert.equal(await errorCode(res), code, `${method} ${path}`);
      }
      // A well-formed escape still decodes: sha256%3A… is a digest reference.
      const res = await fetch(`${url}/v2/foo/manifests/sha256%3A${'0'.repeat(64)}`);
      assert.equal(res.status, 404);
    });
    assert.deepEqual(internal, []);
  });

  it('checks access first: 401 without credentials, 403 for a user without access, 400 only for one with it', async () => {
    // The served registry reports internal errors on console.error: nothing may reach it.
    const logged: unknown[][] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      await withAuthRegistry({ token: false }, async ({ registry: r }) => {
        const alice = basic('alice', USERS.alice);
        const bob = basic('bob', USERS.bob);
        for (const [path, code] of [
          ['/v2/private/app/manifests/lat%zz', 'MANIFEST_INVALID'],
          ['/v2/private/app/blobs/%E0%A4%A', 'DIGEST_INVALID'],
          ['/v2/private/ap%zz/manifests/latest', 'NAME_INVALID'],
        ] as const) {
          const anonymous = await fetch(r.url + path);
          assert.equal(anonymous.status, 401, path);
          assert.equal(await errorCode(anonymous), 'UNAUTHORIZED', path);
          assert.equal(anonymous.headers.get('www-authenticate'), 'Basic realm="berth-registry"');
          const denied = await fetch(r.url + path, { headers: bob });
          assert.equal(denied.status, 403, path);
          assert.equal(await errorCode(denied), 'DENIED', path);
          const allowed = await fetch(r.url + path, { headers: alice });
          assert.equal(allowed.status, 400, path);
          assert.equal(await errorCode(allowed), code, path);
        }
        // Where anonymous pulls are allowed, the anonymous client gets the 400 itself.
        const open = await fetch(`${r.url}/v2/public/app/manifests/%E0%A4%A`);
        assert.equal(open.status, 400);
        assert.equal(await errorCode(open), 'MANIFEST_INVALID');
        // A push there is not anonymous: 401 first.
        const push = await fetch(`${r.url}/v2/public/app/blobs/uploads/%zz`, { method: 'PATCH', body: 'x' });
        assert.equal(push.status, 401);
        assert.equal(await errorCode(push), 'UNAUTHORIZED');
      });
    } finally {
      console.error = consoleError;
    }
    assert.deepEqual(logged, []);
  });
});
