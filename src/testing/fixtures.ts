import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this compiled file (dist/lib/testing/fixtures.js). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** `../shared/fixtures` beside the repository, or BERTH_FIXTURES. */
export const fixturesDir = process.env.BERTH_FIXTURES ?? join(repoRoot, '..', 'shared', 'fixtures');

export function fixture(...parts: string[]): string {
  const p = join(fixturesDir, ...parts);
  if (!existsSync(p)) throw new Error(`fixture missing: ${p} (is ../shared/ beside the repository?)`);
  return p;
}
