import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { execFileAsync } from './exec-file.js';
import { nativeCalls } from './native.js';

/** The same call through Node's execFile: a `timeout` option (0: none) is one the native way does not take. */
const throughNode = (file: string, args: string[], opts: { maxBuffer?: number; env?: NodeJS.ProcessEnv } = {}) =>
  execFileAsync(file, args, { ...opts, timeout: 0 });

/** The fields of an execFile error that callers read. */
function shape(e: unknown) {
  const err = e as NodeJS.ErrnoException & { signal?: string | null; stdout?: string; stderr?: string; cmd?: string };
  return { message: err.message, code: err.code, signal: err.signal, stdout: err.stdout, stderr: err.stderr, cmd: err.cmd, syscall: err.syscall };
}

async function both(file: string, args: string[], opts: { maxBuffer?: number; env?: NodeJS.ProcessEnv } = {}) {
  const settle = (p: Promise<unknown>) =>
    p.then(
      (value) => ({ value }),
      (e: unknown) => ({ error: shape(e) }),
    );
  return { native: await settle(execFileAsync(file, args, opts)), node: await settle(throughNode(file, args, opts)) };
}

describe('execFileAsync', { timeout: 30_000 }, () => {
  test('gives what execFile gives, native or not: output, exit status, signal, a program that is not there', async () => {
    assert.ok(nativeCalls(), 'dist/lib/util/berth-native.node was not built: see scripts/build-native.mjs');
    const cases: [string, string[], { maxBuffer?: number; env?: NodeJS.ProcessEnv }?][] = [
      ['sh', ['-c', 'echo out; echo err >&2']],
      ['sh', ['-c', 'echo partial; echo why >&2; exit 3']],
      ['sh', ['-c', 'echo before; kill -TERM $$']],
      ['env', [], { env: { ONLY: 'this', PATH: process.env.PATH ?? '/usr/bin:/bin' } }],
      ['/nonexistent/program', ['x']],
      ['no-such-program-anywhere', []],
      ['sh', ['-c', 'head -c 70000 /dev/zero | tr "\\0" x']],
    ];
    for (const [file, args, opts] of cases) {
      const { native, node } = await both(file, args, opts);
      assert.deepEqual(native, node, `${file} ${args.join(' ')}`);
    }
  });

  test('the child reads nothing from stdin: it ends at once (/dev/null; execFile leaves a pipe open)', async () => {
    assert.deepEqual(await execFileAsync('cat', []), { stdout: '', stderr: '' });
  });

  test("refuses output past maxBuffer with execFile's error", async () => {
    const args = ['-c', 'head -c 5000 /dev/zero'];
    await assert.rejects(execFileAsync('sh', args, { maxBuffer: 4096 }), { code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' });
    await assert.rejects(throughNode('sh', args, { maxBuffer: 4096 }), { code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' });
    assert.equal((await execFileAsync('sh', args, { maxBuffer: 5000 })).stdout.length, 5000);
  });

  test("the child starts with every signal's default action, none blocked, as Node's children do", async () => {
    // Node ignores SIGPIPE itself; a child that inherited that would not die writing to a closed pipe.
    const blocked = (await execFileAsync('grep', ['^SigBlk', '/proc/self/status'])).stdout;
    assert.match(blocked, /SigBlk:\s+0+\n/);
    const ignored = (await execFileAsync('grep', ['^SigIgn', '/proc/self/status'])).stdout;
    // glibc's posix_spawn leaves its own two internal signals (32, 33) ignored, which glibc sets up
    // again in every program it starts; no other is.
    assert.match(ignored, /SigIgn:\s+(0{16}|0{7}180{7})\n/);
  });
});
