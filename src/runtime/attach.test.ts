import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { attachSocket, type Attachment } from './attach.js';
import { nativeCalls } from '../util/native.js';

/**
 * A stand-in for conmon's attach socket (SOCK_SEQPACKET): one client; it sends a stdout and a
 * stderr packet, records the size of each packet it receives in sizes.txt and their bytes in
 * input.bin until the client shuts its side, then closes. With `hold`, it reads nothing until
 * the client's first packet has waited (so the socket fills), to see the client wait for room.
 */
const SERVER = String.raw`
use strict; use Socket;
my ($dir, $hold) = @ARGV;
socket(my $l, AF_UNIX, SOCK_SEQPACKET, 0) or die "socket: $!";
bind($l, pack_sockaddr_un("$dir/attach")) or die "bind: $!";
listen($l, 1) or die "listen: $!";
print "ready\n"; STDOUT->flush();
accept(my $c, $l) or die "accept: $!";
send($c, "\x02out:hello", 0); send($c, "\x03err:oops", 0);
sleep(1) if $hold;
open(my $sizes, '>', "$dir/sizes.txt") or die; open(my $in, '>', "$dir/input.bin") or die; binmode $in;
my $b;
while (defined(recv($c, $b, 1 << 20, 0)) && length($b) > 0) { print $sizes length($b), "\n"; print $in $b; }
close($sizes); close($in); close($c);
`;

async function server(dir: string, hold = false): Promise<ChildProcess> {
  const child = spawn('perl', ['-e', SERVER, dir, hold ? '1' : ''], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return child;
}

function collect(a: Attachment): { out: Buffer[]; err: Buffer[]; ended: Promise<unknown> } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  a.on('stdout', (d) => out.push(Buffer.from(d)));
  a.on('stderr', (d) => err.push(Buffer.from(d)));
  return { out, err, ended: once(a, 'end') };
}

describe('attachSocket, on the native addon', { timeout: 30_000 }, () => {
  const dirs: string[] = [];
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-attach-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** A server in a new directory (see SERVER), and an attachment connected to it. */
  const connected = async (hold = false) => {
    const dir = newDir();
    const srv = await server(dir, hold);
    const a = attachSocket(join(dir, 'attach'));
    const seen = collect(a);
    await a.ready;
    return { dir, srv, a, seen };
  };

  test('the addon is built in this checkout (CI runs the native path, not the fallback)', () => {
    assert.ok(nativeCalls(), 'dist/lib/util/berth-native.node was not built: see scripts/build-native.mjs');
  });

  test("each packet's first byte picks its stream; stdin goes as packets conmon takes whole (32 KiB), in order; end shuts our side", async () => {
    const { dir, srv, a, seen } = await connected();
    const input = Buffer.alloc(100_000);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7919) % 251;
    a.stdin.write(input.subarray(0, 5));
    a.stdin.end(input.subarray(5));
    await once(srv, 'exit');
    await seen.ended;
    assert.equal(Buffer.concat(seen.out).toString(), 'out:hello');
    assert.equal(Buffer.concat(seen.err).toString(), 'err:oops');
    const sizes = readFileSync(join(dir, 'sizes.txt'), 'utf8').trim().split('\n').map(Number);
    assert.deepEqual(sizes, [5, 32768, 32768, 32768, 99995 - 3 * 32768]);
    assert.deepEqual(readFileSync(join(dir, 'input.bin')), input);
  });

  test('a full socket makes the writer wait for room, and nothing is lost', async () => {
    const { dir, srv, a, seen } = await connected(true);
    // Far more than a Unix socket buffers (~200 KiB): sends meet EAGAIN while the server sleeps.
    const input = Buffer.alloc(4 << 20);
    for (let i = 0; i < input.length; i += 4096) input.writeUInt32BE(i, i);
    a.stdin.end(input);
    await once(srv, 'exit');
    await seen.ended;
    assert.deepEqual(readFileSync(join(dir, 'input.bin')), input);
  });

  test('it waits for a socket not made yet, and gives up with the reason after its wait', async () => {
    const dir = newDir();
    const a = attachSocket(join(dir, 'attach'), 5_000);
    const seen = collect(a);
    await new Promise((r) => setTimeout(r, 100));
    const srv = await server(dir);
    await a.ready;
    a.stdin.end();
    await once(srv, 'exit');
    await seen.ended;
    assert.equal(Buffer.concat(seen.out).toString(), 'out:hello');

    const missing = attachSocket(join(dir, 'nothing-here'), 50);
    await assert.rejects(missing.ready, /attaching to the container: connect .*nothing-here: connect: No such file or directory/);
  });

  test('close ends it from our side: end comes, the server sees our side go, later writes are dropped', async () => {
    const { dir, srv, a, seen } = await connected();
    a.stdin.write(Buffer.from('before'));
    await new Promise((r) => setTimeout(r, 50));
    a.close();
    await seen.ended;
    a.stdin.write(Buffer.from('after'));
    await once(srv, 'exit');
    assert.equal(readFileSync(join(dir, 'input.bin'), 'utf8'), 'before');
  });

  test('closed before it connected: ready rejects, and no retry is left running', async () => {
    const dir = newDir();
    const a = attachSocket(join(dir, 'attach'), 60_000);
    const seen = collect(a);
    a.close();
    await assert.rejects(a.ready, /closed before it connected/);
    await seen.ended;
  });
});
