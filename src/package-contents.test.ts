import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';
import { repoRoot } from './testing/fixtures.js';

it('the npm package ships no tests and no test helpers', { timeout: 60_000 }, () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
  assert.ok(files.includes('dist/cli/berth.mjs'), 'the CLI is in it');
  assert.deepEqual(
    files.filter((f) => /\.test\.|(^|\/)testing\/|(^|\/)_testing\.|\.compile-cache/.test(f)),
    [],
  );
});
