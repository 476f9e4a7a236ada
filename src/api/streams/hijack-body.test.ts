import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { clientInput, queryFlag, readUpgradeBody } from './hijack-body.js';

const request = (length: number) => ({ headers: { 'content-length': String(length) } }) as unknown as IncomingMessage;

describe('hijack-body', { timeout: 10_000 }, () => {
  test('a body split between head and the socket is read whole; the bytes after it stay for the input', async () => {
    const socket = new PassThrough();
    const body = readUpgradeBody(request(16), socket, Buffer.from('{"Detach"'));
    socket.write(':false}typed');
    assert.equal((await body).toString(), '{"Detach":false}');
    // A consumer that starts listening later (after the exec has started) still gets what was typed.
    await new Promise((r) => setTimeout(r, 20));
    const input = clientInput(socket);
    const got: Buffer[] = [];
    input.on('data', (d: Buffer) => got.push(d));
    socket.end('more');
    await new Promise((r) => input.once('end', r));
    assert.equal(Buffer.concat(got).toString(), 'typedmore');
  });

  test('no body: what came with the headers is all input', async () => {
    const socket = new PassThrough();
    assert.equal((await readUpgradeBody(request(0), socket, Buffer.from('abc'))).length, 0);
    const input = clientInput(socket);
    const got: Buffer[] = [];
    input.on('data', (d: Buffer) => got.push(d));
    socket.end();
    await new Promise((r) => input.once('end', r));
    assert.equal(Buffer.concat(got).toString(), 'abc');
  });

  test('Docker’s query booleans', () => {
    assert.equal(queryFlag('1'), true);
    assert.equal(queryFlag('True'), true);
    assert.equal(queryFlag('0'), false);
    assert.equal(queryFlag(undefined), false);
    assert.equal(queryFlag('', true), true);
  });
});
