// Runs every compiled *.test.js under dist/lib with node's test runner (Node 20 takes no globs).
// Unit tests run in parallel; end-to-end tests (*.e2e.test.js) that drive podman, skopeo or
// mounts run one file at a time so they do not compete for the machine.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = find('dist/lib').filter((f) => filter.length === 0 || filter.some((s) => f.includes(s))).sort();
const unit = files.filter((f) => !f.endsWith('.e2e.test.js'));
const e2e = files.filter((f) => f.endsWith('.e2e.test.js'));
let status = 0;
for (const [group, concurrency] of [[unit, 2], [e2e, 1]]) {
  if (group.length === 0) continue;
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...group], { stdio: 'inherit' });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
