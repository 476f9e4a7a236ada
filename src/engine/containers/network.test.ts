import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ContainerRecord } from '../../store/containers.js';
import { validateHostname, writeEtcFiles } from './network.js';
import type { ContainerPaths } from './paths.js';

describe('host names written into /etc/hosts and /etc/hostname', { timeout: 10_000 }, () => {
  test('RFC 1123 names (and underscores) up to the kernel\'s 64 characters pass', () => {
    for (const ok of ['web', 'A.b-c', 'a_b', 'db-1.example.org', '0abc', 'a'.repeat(64), 'x.y.z']) assert.equal(validateHostname(ok), ok);
  });

  test('anything that could add a line or a name to /etc/hosts is refused, on one line', () => {
    const refused = ['a\nb', 'a\rb', 'a b', 'a\tb', 'host\n10.0.0.1 evil', '-ab', 'ab-', 'ab.', '.ab', 'a..b', 'a/b', 'a#b', 'ä'];
    for (const bad of refused) {
      assert.throws(() => validateHostname(bad), (e: Error) => {
        assert.match(e.message, /^invalid hostname ".*": must be letters, digits/);
        assert.ok(!e.message.includes('\n') && !e.message.includes('\r'), `one line: ${JSON.stringify(e.message)}`);
        return true;
      });
    }
    assert.throws(() => validateHostname('a'.repeat(65)), { message: `invalid hostname "${'a'.repeat(65)}": must be at most 64 characters` });
  });

  test('a stored record with a bad host name writes no /etc file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-etc-'));
    try {
      const paths = { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') } as ContainerPaths;
      const record = (hostname: string) => ({ name: 'c1', config: { hostname, network: { mode: 'none' } } }) as unknown as ContainerRecord;
      await assert.rejects(writeEtcFiles(record('a\n6.6.6.6 victim'), paths), /invalid hostname "a\\n6\.6\.6\.6 victim"/);
      assert.equal(existsSync(paths.hosts) || existsSync(paths.hostname) || existsSync(paths.resolvConf), false);
      await writeEtcFiles(record('good-name'), paths);
      assert.equal(readFileSync(paths.hostname, 'utf8'), 'good-name\n');
      assert.match(readFileSync(paths.hosts, 'utf8'), /^127\.0\.1\.1\tgood-name c1$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
