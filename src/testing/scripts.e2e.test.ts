import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { processGone, run, tempDir } from './cli.js';
import { repoRoot } from './fixtures.js';

/** A copy of one of this repository's scripts in a project of its own under `dir`. */
function project(dir: string, files: Record<string, string>, scripts: string[]): string {
  const root = join(dir, 'repo');
  for (const s of scripts) {
    mkdirSync(join(root, 'scripts'), { recursive: true });
    copyFileSync(join(repoRoot, 'scripts', s), join(root, 'scripts', s));
  }
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

async function waitGone(pids: number[]): Promise<void> {
  for (let i = 0; i < 100 && !pids.every(processGone); i++) await new Promise((r) => setTimeout(r, 20));
  for (const pid of pids) assert.ok(processGone(pid), `process ${pid} was left running`);
}

describe('scripts/test.mjs', { timeout: 120_000 }, () => {
  const t = tempDir('berth-runner-');
  after(() => t.cleanup());

  test('stops at once with one line when the shared fixtures are missing', async () => {
    const root = project(join(t.path, 'no-shared'), { 'dist/lib/a.test.js': "require('node:test').test('x', () => {});\n" }, ['test.mjs']);
    const missing = join(t.path, 'no-shared', 'shared', 'fixtures');
    const given = join(t.path, 'nowhere');
    for (const [env, path] of [
      [{ BERTH_FIXTURES: '' }, missing],
      [{ BERTH_FIXTURES: given }, given],
    ] as const) {
      for (const args of [[], ['--check-fixtures']]) {
        const started = Date.now();
        const r = await run(process.execPath, ['scripts/test.mjs', ...args], { cwd: root, env, timeoutMs: 10_000 });
        assert.ok(Date.now() - started < 5_000);
        assert.notEqual(r.code, 0);
        assert.equal(r.stdout, '');
        assert.equal(
          r.stderr,
          `Error: test fixtures not found at ${path}: check out the shared repository beside this one as ../shared, or set BERTH_FIXTURES\n`,
        );
      }
    }
    mkdirSync(missing, { recursive: true });
    const present = await run(process.execPath, ['scripts/test.mjs', '--check-fixtures'], { cwd: root, env: { BERTH_FIXTURES: '' }, timeoutMs: 10_000 });
    assert.deepEqual(present, { code: 0, stdout: '', stderr: '' });
  });

  // A test that hangs with children holding its output (a `zstd -d` waiting for input, one that
  // escaped with setsid) made node's runner wait forever.
  const hanging = `const { test } = require('node:test');
const { spawn } = require('node:child_process');
test('hangs', async () => {
  const held = spawn('sleep', ['300'], { stdio: 'inherit' });
  const escaped = spawn('setsid', ['sleep', '300'], { stdio: 'inherit' });
  require('node:fs').writeFileSync(process.env.PIDS_FILE, held.pid + ' ' + escaped.pid);
  await new Promise(() => setInterval(() => {}, 1000));
});
`;

  for (const [name, env, expect] of [
    [
      'a file past its timeout is killed with everything it started, and the others still run',
      { BERTH_TEST_FILE_TIMEOUT: '2' },
      /still running 2 s after its 2 s timeout/,
    ],
    [
      'the watchdog stops the whole run and everything it started',
      { BERTH_TEST_DEADLINE: '3' },
      /^Error: the tests did not finish in 3 s; stopping dist\/lib\/a\/hang.test.js$/m,
    ],
  ] as const) {
    test(name, async () => {
      const dir = join(t.path, env.BERTH_TEST_DEADLINE ? 'watchdog' : 'file-timeout');
      const root = project(dir, { 'dist/lib/a/hang.test.js': hanging, 'dist/lib/b/fine.test.js': "require('node:test').test('passes', () => {});\n" }, [
        'test.mjs',
      ]);
      const pidsFile = join(dir, 'pids');
      const started = Date.now();
      const r = await run(process.execPath, ['scripts/test.mjs'], { cwd: root, env: { ...env, BERTH_FIXTURES: dir, PIDS_FILE: pidsFile }, timeoutMs: 60_000 });
      assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, expect);
      if (!env.BERTH_TEST_DEADLINE) {
        assert.match(r.stderr, /1 of 2 test files failed .*\n {2}dist\/lib\/a\/hang\.test\.js\n/);
        assert.match(r.stdout, /pass 1/);
      }
      await waitGone(readFileSync(pidsFile, 'utf8').split(' ').map(Number));
    });
  }

  test("repeats why each failed test failed at the end, without the stacks, where a log's tail shows it", async () => {
    const dir = join(t.path, 'why');
    const failing =
      "const { test } = require('node:test');\nconst assert = require('node:assert');\ntest('counts three', () => { assert.equal(2, 3, 'two is not three'); });\n";
    const root = project(dir, { 'dist/lib/a/failing.test.js': failing, 'dist/lib/b/fine.test.js': "require('node:test').test('passes', () => {});\n" }, [
      'test.mjs',
    ]);
    const r = await run(process.execPath, ['scripts/test.mjs'], { cwd: root, env: { BERTH_FIXTURES: dir }, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    const why = r.stderr.slice(r.stderr.indexOf('Why dist/lib/a/failing.test.js failed:'));
    assert.match(why, /^Why dist\/lib\/a\/failing\.test\.js failed:\n\u2716 counts three .*\n {2}AssertionError \[ERR_ASSERTION\]: two is not three\n/);
    assert.doesNotMatch(why, /^\s+at /m);
    assert.match(r.stdout, /1 passed, 1 failed, 0 skipped\n$/);
  });
});

describe('scripts/build.mjs', { timeout: 180_000 }, () => {
  const t = tempDir('berth-build-script-');
  after(() => t.cleanup());

  function tinyProject(dir: string, main: string): string {
    const root = project(
      dir,
      {
        'src/cli/main.ts': main,
        'src/cli/entry.ts': readFileSync(join(repoRoot, 'src/cli/entry.ts'), 'utf8'),
        'src/cli/sibling-chunks.ts': readFileSync(join(repoRoot, 'src/cli/sibling-chunks.ts'), 'utf8'),
        'src/cli/vendored.ts': readFileSync(join(repoRoot, 'src/cli/vendored.ts'), 'utf8'),
        'package.json': '{ "type": "module" }\n',
        'tsconfig.json': readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8'),
        'dist/cli/berth.mjs': 'old build\n',
        'dist/lib/old.txt': 'old\n',
      },
      ['build.mjs', 'build-native.mjs', 'flatten-faces.mjs', 'lazy-builtins.mjs', 'vendored.mjs', 'vendored-warm.mjs'],
    );
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
    return root;
  }

  test('swaps the new dist/ in with renames: the old one stays whole until then', async () => {
    const root = tinyProject(join(t.path, 'ok'), "console.log('new build');\n");
    const entry = join(root, 'dist', 'cli', 'berth.mjs');
    const child = spawn(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let running = true;
    void exited.then(() => (running = false));
    // How long dist/cli/berth.mjs was missing at a stretch, and what it held as the build ran.
    let longestMissingMs = 0;
    let missingSince: number | undefined;
    const seen: string[] = [];
    while (running) {
      let content: string | undefined;
      try {
        content = readFileSync(entry, 'utf8');
      } catch {
        content = undefined;
      }
      const now = Date.now();
      if (content === undefined) missingSince ??= now;
      else {
        if (missingSince !== undefined) longestMissingMs = Math.max(longestMissingMs, now - missingSince);
        missingSince = undefined;
        const state = content === 'old build\n' ? 'old' : 'new';
        if (seen.at(-1) !== state) seen.push(state);
      }
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(missingSince, undefined, 'dist/cli/berth.mjs missing after the build');
    assert.deepEqual(seen.at(0) === 'old' ? seen : ['old', ...seen], ['old', 'new']);
    // Before the swap, dist/ was deleted first and missing for the whole build (seconds).
    assert.ok(longestMissingMs < 250, `dist/cli/berth.mjs was missing for ${longestMissingMs} ms`);
    // The entry loads main.mjs, the bundle of src/cli/main.ts.
    assert.match(readFileSync(join(root, 'dist', 'cli', 'main.mjs'), 'utf8'), /new build/);
    const started = await run(process.execPath, [entry], { cwd: root, timeoutMs: 30_000 });
    assert.equal(started.stdout, 'new build\n', started.stderr);
    assert.ok(existsSync(join(root, 'dist', 'lib', 'cli', 'main.js')));
    assert.ok(!existsSync(join(root, 'dist', 'lib', 'old.txt')));
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('dist')),
      ['dist'],
    );
  });

  test('a failed build leaves the old dist/ as it was and nothing beside it', async () => {
    const root = tinyProject(join(t.path, 'broken'), "const n: number = 'not a number';\nconsole.log(n);\n");
    const r = await run(process.execPath, ['scripts/build.mjs'], { cwd: root, timeoutMs: 120_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /TS2322/);
    assert.equal(readFileSync(join(root, 'dist', 'cli', 'berth.mjs'), 'utf8'), 'old build\n');
    assert.ok(existsSync(join(root, 'dist', 'lib', 'old.txt')));
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('dist')),
      ['dist'],
    );
  });
});
