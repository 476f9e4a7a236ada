import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { errorCode, uploadBlob, withRegistry } from './_testing.js';

describe('registry API: base and blobs', () => {
  it('answers /v2/ with the API version header, and unknown paths with 404', () =>
    withRegistry(async ({ url }) => {
      for (const path of ['/v2/', '/v2']) {
        const res = await fetch(url + path);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
        assert.deepEqual(await res.json(), {});
      }
      assert.equal((await fetch(`${url}/v2/x/nothing/here`)).status, 404);
      const res = await fetch(`${url}/v2/x/manifests/latest`, { method: 'POST' });
      assert.equal(res.status, 405);
      assert.equal(await errorCode(res), 'UNSUPPORTED');
    }));

  it('uploads monolithically and serves HEAD, GET and Range requests', () =>
    withRegistry(async ({ url }) => {
      const digest = digestOf('0123456789');
      const res = await fetch(`${url}/v2/a/b/c/blobs/uploads/?digest=${digest}`, { method: 'POST', body: '0123456789' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/a/b/c/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);

      const head = await fetch(`${url}/v2/a/b/c/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '10');
      assert.equal(head.headers.get('docker-content-digest'), digest);
      assert.equal(await (await fetch(`${url}/v2/a/b/c/blobs/${digest}`)).text(), '0123456789');

      for (const [range, body, contentRange] of [
        ['bytes=2-4', '234', 'bytes 2-4/10'],
        ['bytes=7-', '789', 'bytes 7-9/10'],
        ['bytes=-2', '89', 'bytes 8-9/10'],
        ['bytes=8-100', '89', 'bytes 8-9/10'],
      ]) {
        const r = await fetch(`${url}/v2/a/b/c/blobs/${digest}`, { headers: { Range: range! } });
        assert.equal(r.status, 206, range);
        assert.equal(r.headers.get('content-range'), contentRange);
        assert.equal(await r.text(), body);
      }
      // past the end, and backwards (which RFC 9110 lets a server ignore, but the conformance suite wants refused)
      for (const range of ['bytes=10-12', 'bytes=5-0']) {
        const bad = await fetch(`${url}/v2/a/b/c/blobs/${digest}`, { headers: { Range: range } });
        assert.equal(bad.status, 416, range);
        assert.equal(bad.headers.get('content-range'), 'bytes */10');
      }
    }));

  it('answers unknown, foreign and malformed blobs with the spec errors', () =>
    withRegistry(async ({ url }) => {
      const digest = await uploadBlob(url, 'mine', 'data');
      let res = await fetch(`${url}/v2/other/blobs/${digest}`);
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
      assert.equal((await fetch(`${url}/v2/mine/blobs/${digestOf('x')}`, { method: 'HEAD' })).status, 404);
      res = await fetch(`${url}/v2/mine/blobs/sha256:abc`);
      assert.equal(res.status, 400);
      assert.equal(await errorCode(res), 'DIGEST_INVALID');
      res = await fetch(`${url}/v2/Upper/blobs/${digest}`);
      assert.equal(res.status, 400);
      assert.equal(await errorCode(res), 'NAME_INVALID');
      res = await fetch(`${url}/v2/mine/blobs/uploads/?digest=${digestOf('something else')}`, { method: 'POST', body: 'data' });
      assert.equal(res.status, 400);
      assert.equal(await errorCode(res), 'DIGEST_INVALID');
      assert.equal((await fetch(`${url}/v2/mine/blobs/${digestOf('something else')}`, { method: 'HEAD' })).status, 404);
    }));

  it('takes chunks in order with Content-Range, 416 out of order, and finishes with PUT', () =>
    withRegistry(async ({ url }) => {
      let res = await fetch(`${url}/v2/r/blobs/uploads/`, { method: 'POST' });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), '0-0');
      const location = res.headers.get('location')!;
      assert.match(location, /^\/v2\/r\/blobs\/uploads\/[a-f0-9-]+$/);
      assert.ok(res.headers.get('docker-upload-uuid'));

      res = await fetch(url + location, { method: 'PATCH', body: 'hello', headers: { 'Content-Range': '0-4', 'Content-Type': 'application/octet-stream' } });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), '0-4');
      res = await fetch(url + location, { method: 'PATCH', body: 'xyz', headers: { 'Content-Range': '10-12' } });
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('range'), '0-4');
      assert.equal(res.headers.get('location'), location);
      res = await fetch(url + location, { method: 'PATCH', body: 'xyz', headers: { 'Content-Range': 'garbage' } });
      assert.equal(res.status, 416);
      res = await fetch(url + location, { method: 'PATCH', body: ' ' }); // streamed: no Content-Range
      assert.equal(res.headers.get('range'), '0-5');
      res = await fetch(url + location);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('range'), '0-5');

      res = await fetch(`${url}${location}`, { method: 'PUT', body: 'world' });
      assert.equal(res.status, 400, 'no digest');
      const digest = digestOf('hello world');
      res = await fetch(`${url}${location}?digest=${digest}`, { method: 'PUT', body: 'world', headers: { 'Content-Range': '6-10' } });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/r/blobs/${digest}`);
      assert.equal(await (await fetch(`${url}/v2/r/blobs/${digest}`)).text(), 'hello world');
      res = await fetch(url + location);
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
    }));

  it('finishes with an empty PUT, cancels with DELETE, and keeps sessions to their repository', () =>
    withRegistry(async ({ url }) => {
      let res = await fetch(`${url}/v2/r/blobs/uploads/`, { method: 'POST' });
      let location = res.headers.get('location')!;
      await fetch(url + location, { method: 'PATCH', body: 'abc' });
      assert.equal((await fetch(url + location.replace('/v2/r/', '/v2/s/'))).status, 404);
      res = await fetch(`${url}${location}?digest=${digestOf('abc')}`, { method: 'PUT' });
      assert.equal(res.status, 201);

      res = await fetch(`${url}/v2/r/blobs/uploads/`, { method: 'POST' });
      location = res.headers.get('location')!;
      assert.equal((await fetch(url + location, { method: 'DELETE' })).status, 204);
      res = await fetch(url + location, { method: 'PATCH', body: 'x' });
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
    }));

  it('mounts across repositories, falling back to an upload session', () =>
    withRegistry(async ({ url }) => {
      const digest = await uploadBlob(url, 'src/repo', 'shared layer');
      let res = await fetch(`${url}/v2/dst/blobs/uploads/?mount=${digest}&from=src/repo`, { method: 'POST' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/dst/blobs/${digest}`);
      assert.equal(await (await fetch(`${url}/v2/dst/blobs/${digest}`)).text(), 'shared layer');
      res = await fetch(`${url}/v2/dst2/blobs/uploads/?mount=${digest}&from=elsewhere`, { method: 'POST' });
      assert.equal(res.status, 202);
      assert.match(res.headers.get('location')!, /^\/v2\/dst2\/blobs\/uploads\//);
    }));

  it('deletes blobs from a repository', () =>
    withRegistry(async ({ url }) => {
      const digest = await uploadBlob(url, 'r', 'doomed');
      assert.equal((await fetch(`${url}/v2/r/blobs/${digest}`, { method: 'DELETE' })).status, 202);
      assert.equal((await fetch(`${url}/v2/r/blobs/${digest}`, { method: 'HEAD' })).status, 404);
      const res = await fetch(`${url}/v2/r/blobs/${digest}`, { method: 'DELETE' });
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
    }));

  it('leaves nothing visible when an upload is cut off midway', () =>
    withRegistry(async ({ url, port, dir }) => {
      const data = Buffer.alloc(1024 * 1024, 3);
      const digest = digestOf(data);
      await new Promise<void>((done) => {
        const req = request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/v2/r/blobs/uploads/?digest=${digest}`,
          headers: { 'Content-Length': String(data.length) },
        });
        req.on('error', () => done());
        req.on('response', () => done());
        req.write(data.subarray(0, 300 * 1024), () => setTimeout(() => req.destroy(), 50));
      });
      const uploads = join(dir, 'storage', 'uploads');
      for (let i = 0; i < 100 && (await readdir(uploads)).length > 0; i++) await sleep(20);
      assert.deepEqual(await readdir(uploads), [], 'the session was dropped');
      assert.deepEqual(await readdir(join(dir, 'storage', 'blobs')), []);
      assert.equal((await fetch(`${url}/v2/r/blobs/${digest}`, { method: 'HEAD' })).status, 404);
    }));
});
