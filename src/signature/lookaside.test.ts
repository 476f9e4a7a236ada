import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { parseDockerRef } from '../oci/reference.js';
import { addLookasideSignature, lookasideSignatureURL, putLookasideSignatures, readLookasideSignatures } from './lookaside.js';

const HEX = '20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
const DIGEST = `sha256:${HEX}`;

describe('lookaside signature storage', { timeout: 20_000 }, () => {
  it('lays signatures out as containers/image: <base>/<path without host>@sha256=<hex>/signature-N', () => {
    const r = parseDockerRef('registry.example.com:5000/ns/app:1');
    assert.equal(lookasideSignatureURL('file:///srv/sigs', r, DIGEST, 1).href, `file:///srv/sigs/ns/app@sha256=${HEX}/signature-1`);
    assert.equal(lookasideSignatureURL('https://sigs.example.com', r, DIGEST, 2).href, `https://sigs.example.com/ns/app@sha256=${HEX}/signature-2`);
    // A base ending in '/' is appended to as is (Go's string concatenation), as containers/image does.
    assert.equal(
      lookasideSignatureURL('https://lookaside.centos.org/', parseDockerRef('centos/x'), DIGEST, 1).href,
      `https://lookaside.centos.org//centos/x@sha256=${HEX}/signature-1`,
    );
    assert.equal(lookasideSignatureURL('file:///s', parseDockerRef('busybox'), DIGEST, 1).href, `file:///s/library/busybox@sha256=${HEX}/signature-1`);
    assert.throws(() => lookasideSignatureURL('ftp://x/y', r, DIGEST, 1), /unsupported scheme ftp/);
    assert.throws(() => lookasideSignatureURL('/no/scheme', r, DIGEST, 1), /invalid signature storage URL/);
  });

  it('writes to a file:// lookaside at the next free number and reads them back in order', async () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-lookaside-'));
    try {
      const base = pathToFileURL(d).href;
      const r = parseDockerRef('127.0.0.1:5000/app:latest');
      assert.deepEqual(await readLookasideSignatures(base, r, DIGEST), []);
      const p1 = await addLookasideSignature(base, r, DIGEST, new Uint8Array([1]));
      const p2 = await addLookasideSignature(base, r, DIGEST, new Uint8Array([2, 2]));
      assert.equal(p1, join(d, `app@sha256=${HEX}`, 'signature-1'));
      assert.equal(p2, join(d, `app@sha256=${HEX}`, 'signature-2'));
      assert.deepEqual([...readFileSync(p2)], [2, 2]);
      assert.deepEqual(
        (await readLookasideSignatures(base, r, DIGEST)).map((s) => [...s]),
        [[1], [2, 2]],
      );
      // No temp file left beside them.
      assert.deepEqual(readdirSync(join(d, `app@sha256=${HEX}`)).sort(), ['signature-1', 'signature-2']);
      // Writers in parallel each get their own number.
      await Promise.all([3, 4, 5].map((n) => addLookasideSignature(base, r, DIGEST, new Uint8Array([n]))));
      assert.equal((await readLookasideSignatures(base, r, DIGEST)).length, 5);
      await assert.rejects(addLookasideSignature('https://x.example/', r, DIGEST, new Uint8Array([1])), /file:\/\/ lookaside-staging/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("puts a copied image's signatures as the whole set: those there replaced, higher numbers removed", async () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-lookaside-'));
    try {
      const base = pathToFileURL(d).href;
      const r = parseDockerRef('127.0.0.1:5000/mirror:1');
      for (const n of [7, 8, 9]) await addLookasideSignature(base, r, DIGEST, new Uint8Array([n]));
      await putLookasideSignatures(base, r, DIGEST, [new Uint8Array([1]), new Uint8Array([2])]);
      assert.deepEqual(
        (await readLookasideSignatures(base, r, DIGEST)).map((s) => [...s]),
        [[1], [2]],
      );
      assert.deepEqual(readdirSync(join(d, `mirror@sha256=${HEX}`)).sort(), ['signature-1', 'signature-2']);
      // The same set put again changes nothing (a copy repeated adds no duplicates).
      await putLookasideSignatures(base, r, DIGEST, [new Uint8Array([1]), new Uint8Array([2])]);
      assert.equal((await readLookasideSignatures(base, r, DIGEST)).length, 2);
      await assert.rejects(putLookasideSignatures('https://x.example/', r, DIGEST, [new Uint8Array([1])]), /file:\/\/ lookaside-staging/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('reads from an http:// lookaside until the first 404, and fails on another status', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === `/sigs/app@sha256=${HEX}/signature-1`) return res.end('one');
      if (req.url === `/sigs/app@sha256=${HEX}/signature-2`) return res.end('two');
      if (req.url?.startsWith('/broken/')) return res.writeHead(500).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = parseDockerRef('127.0.0.1:5000/app');
      const sigs = await readLookasideSignatures(`${base}/sigs`, r, DIGEST);
      assert.deepEqual(
        sigs.map((s) => new TextDecoder().decode(s)),
        ['one', 'two'],
      );
      assert.equal(seen.length, 3);
      await assert.rejects(readLookasideSignatures(`${base}/broken`, r, DIGEST), /HTTP 500/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
