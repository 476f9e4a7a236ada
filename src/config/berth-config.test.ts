import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveStorePaths } from '../engine/engine.js';
import { tempDir } from '../testing/cli.js';
import { BerthError } from '../util/errors.js';
import { loadBerthConfig } from './berth-config.js';

describe('berth.toml', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());
  const sys = join(tmp.path, 'etc');
  const user = join(tmp.path, 'home');
  mkdirSync(sys);
  mkdirSync(user);

  it('merges system then user files, key by key', async () => {
    writeFileSync(join(sys, 'berth.toml'), '[storage]\nroot = "/sys/root"\nrunroot = "/sys/run"\n');
    writeFileSync(join(user, 'berth.toml'), '[storage]\nroot = "/user/root"\n');
    assert.deepEqual(await loadBerthConfig([sys, user]), { storage: { root: '/user/root', runroot: '/sys/run' } });
    assert.deepEqual(await loadBerthConfig([join(tmp.path, 'none')]), { storage: {} });
  });

  it('resolves flag over env over config over default', async () => {
    const dirs = [sys, user];
    assert.equal((await resolveStorePaths({ configDirs: dirs }, {})).root, '/user/root');
    assert.equal((await resolveStorePaths({ configDirs: dirs }, { BERTH_ROOT: '/env' })).root, '/env');
    assert.equal((await resolveStorePaths({ configDirs: dirs, root: '/flag' }, { BERTH_ROOT: '/env' })).root, '/flag');
    const fallback = await resolveStorePaths({ configDirs: [] }, { XDG_DATA_HOME: '/xdg', XDG_RUNTIME_DIR: '/xrun' });
    if (process.getuid?.() === 0) assert.deepEqual(fallback, { root: '/var/lib/berth', runRoot: '/run/berth' });
    else assert.deepEqual(fallback, { root: '/xdg/berth', runRoot: '/xrun/berth' });
  });

  it('refuses malformed TOML, unknown keys and wrong types with one line naming the file', async () => {
    const bad = join(tmp.path, 'bad');
    mkdirSync(bad);
    for (const [text, pattern] of [
      ['[storage\nroot = 1', /berth\.toml: invalid TOML/],
      ['[storage]\nrot = "/x"', /unknown key storage\.rot/],
      ['[store]\nroot = "/x"', /unknown table \[store\]/],
      ['[storage]\nroot = 5', /storage\.root must be a string/],
    ] as const) {
      writeFileSync(join(bad, 'berth.toml'), text);
      await assert.rejects(loadBerthConfig([bad]), (e: unknown) => e instanceof BerthError && pattern.test(e.message) && !e.message.includes('\n'));
    }
  });
});
