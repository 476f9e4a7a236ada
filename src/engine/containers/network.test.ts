import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ContainerRecord } from '../../store/containers.js';
import { parseNameResolution, validateHostname, writeEtcFiles } from './network.js';
import type { ContainerPaths } from './paths.js';

describe('host names written into /etc/hosts and /etc/hostname', { timeout: 10_000 }, () => {
  test("RFC 1123 names (and underscores) up to the kernel's 64 characters pass", () => {
    for (const ok of ['web', 'A.b-c', 'a_b', 'db-1.example.org', '0abc', 'a'.repeat(64), 'x.y.z']) assert.equal(validateHostname(ok), ok);
  });

  test('anything that could add a line or a name to /etc/hosts is refused, on one line', () => {
    const refused = ['a\nb', 'a\rb', 'a b', 'a\tb', 'host\n10.0.0.1 evil', '-ab', 'ab-', 'ab.', '.ab', 'a..b', 'a/b', 'a#b', 'ä'];
    for (const bad of refused) {
      assert.throws(
        () => validateHostname(bad),
        (e: Error) => {
          assert.match(e.message, /^invalid hostname ".*": must be letters, digits/);
          assert.ok(!e.message.includes('\n') && !e.message.includes('\r'), `one line: ${JSON.stringify(e.message)}`);
          return true;
        },
      );
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

  test("--add-host, --dns, --dns-search and --dns-option in podman's words", () => {
    assert.equal(parseNameResolution({}, undefined), undefined);
    assert.deepEqual(
      parseNameResolution(
        { addHosts: ['db:10.0.0.5', 'v6.example:::1'], dns: ['9.9.9.9', '2001:db8::1'], dnsSearch: ['ex.com'], dnsOptions: ['ndots:3', 'a b'] },
        undefined,
      ),
      {
        extraHosts: [
          { host: 'db', ip: '10.0.0.5' },
          { host: 'v6.example', ip: '::1' },
        ],
        servers: ['9.9.9.9', '2001:db8::1'],
        search: ['ex.com'],
        options: ['ndots:3', 'a b'],
      },
    );
    const refusals: [Parameters<typeof parseNameResolution>[0], string][] = [
      [{ addHosts: ['a'] }, 'bad format for add-host: "a"'],
      [{ addHosts: [':1.2.3.4'] }, 'bad format for add-host: ":1.2.3.4"'],
      [{ addHosts: ['a\nb:1.2.3.4'] }, 'bad format for add-host: "a\\nb:1.2.3.4"'],
      [{ addHosts: ['a b:1.2.3.4'] }, 'bad format for add-host: "a b:1.2.3.4"'],
      [{ addHosts: ['a:1.2.3.999'] }, 'invalid IP address in add-host: "1.2.3.999"'],
      [{ addHosts: ['a:1.2.3.4\n6.6.6.6 evil'] }, 'invalid IP address in add-host: "1.2.3.4\\n6.6.6.6 evil"'],
      [{ dns: ['foo'] }, 'foo is not an ip address'],
      [{ dns: ['1.2.3.4\nnameserver 6.6.6.6'] }, '"1.2.3.4\\nnameserver 6.6.6.6" is not an ip address'],
      [{ dnsSearch: ['a b'] }, 'a b is not a valid domain'],
      [{ dnsSearch: ['a\nb'] }, '"a\\nb" is not a valid domain'],
      [{ dnsSearch: ['-a'] }, '-a is not a valid domain'],
      [{ dnsSearch: ['.', 'ex.com'] }, "cannot pass additional search domains when also specifying '.'"],
      [{ dnsOptions: ['ndots:1\nnameserver 6.6.6.6'] }, 'invalid dns option "ndots:1\\nnameserver 6.6.6.6"'],
    ];
    for (const [flags, message] of refusals) assert.throws(() => parseNameResolution(flags, undefined), { message });
    assert.throws(() => parseNameResolution({ dns: ['1.1.1.1'] }, 'none'), { message: 'conflicting options: dns and the network mode: none' });
  });

  test("extra hosts come first in /etc/hosts; --dns* replace resolv.conf's lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-etc-'));
    try {
      const paths = { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') } as ContainerPaths;
      const nameResolution = parseNameResolution({ addHosts: ['db:10.0.0.5'], dns: ['9.9.9.9'], dnsSearch: ['ex.com'], dnsOptions: ['ndots:3'] }, undefined);
      const record = { name: 'c1', config: { hostname: 'h', network: { mode: 'slirp4netns' }, nameResolution } } as unknown as ContainerRecord;
      await writeEtcFiles(record, paths);
      assert.match(readFileSync(paths.hosts, 'utf8'), /^10\.0\.0\.5\tdb\n127\.0\.0\.1\tlocalhost/);
      assert.equal(readFileSync(paths.resolvConf, 'utf8'), 'search ex.com\nnameserver 9.9.9.9\noptions ndots:3\n');
      const noSearch = { ...record, config: { ...record.config, nameResolution: parseNameResolution({ dnsSearch: ['.'] }, undefined) } } as ContainerRecord;
      await writeEtcFiles(noSearch, paths);
      const resolv = readFileSync(paths.resolvConf, 'utf8');
      assert.match(resolv, /^nameserver 10\.0\.2\.3$/m, "slirp4netns's DNS stays");
      assert.doesNotMatch(resolv, /^search/m, "and no search line, not even the host's");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("slirp4netns's subnet gives the container's own address, its DNS and, with the host's loopback allowed, the host", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-etc-'));
    try {
      const paths = { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') } as ContainerPaths;
      const network = { mode: 'slirp4netns', options: ['cidr=10.0.3.0/24', 'allow_host_loopback=true'] };
      const record = { name: 'c1', config: { hostname: 'h', network, nameResolution: parseNameResolution({ addHosts: ['gw:host-gateway'] }, undefined) } };
      await writeEtcFiles(record as unknown as ContainerRecord, paths);
      const hosts = readFileSync(paths.hosts, 'utf8');
      assert.match(hosts, /^10\.0\.3\.2\tgw\n/);
      assert.match(hosts, /^10\.0\.3\.100\th c1\n10\.0\.3\.2\thost\.containers\.internal host\.docker\.internal\n$/m);
      assert.match(readFileSync(paths.resolvConf, 'utf8'), /^nameserver 10\.0\.3\.3\n/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pasta: no host name unless --map-gw maps the gateway to the host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-etc-'));
    try {
      const paths = { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') } as ContainerPaths;
      const record = (options: string[]) => ({ name: 'c1', config: { hostname: 'h', network: { mode: 'pasta', options } } }) as unknown as ContainerRecord;
      await writeEtcFiles(record(['-a', '10.9.9.9']), paths);
      const hosts = readFileSync(paths.hosts, 'utf8');
      assert.match(hosts, /^10\.9\.9\.9\th c1$/m);
      assert.doesNotMatch(hosts, /host\.containers\.internal/);
      await writeEtcFiles(record(['--map-gw', '-g', '10.9.9.1']), paths);
      assert.match(readFileSync(paths.hosts, 'utf8'), /^10\.9\.9\.1\thost\.containers\.internal host\.docker\.internal$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('host-gateway names the host as the container reaches it, and is left out where there is none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-etc-'));
    try {
      const paths = { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') } as ContainerPaths;
      const nameResolution = parseNameResolution({ addHosts: ['gw:host-gateway', 'db:10.0.0.5'] }, undefined);
      assert.deepEqual(nameResolution?.extraHosts, [
        { host: 'gw', ip: 'host-gateway' },
        { host: 'db', ip: '10.0.0.5' },
      ]);
      const onHost = { name: 'c1', config: { hostname: 'h', network: { mode: 'host' }, nameResolution } } as unknown as ContainerRecord;
      await writeEtcFiles(onHost, paths);
      assert.match(readFileSync(paths.hosts, 'utf8'), /^127\.0\.0\.1\tgw\n10\.0\.0\.5\tdb\n/);
      const isolated = { ...onHost, config: { ...onHost.config, network: { mode: 'none' } } } as ContainerRecord;
      await writeEtcFiles(isolated, paths);
      assert.match(readFileSync(paths.hosts, 'utf8'), /^10\.0\.0\.5\tdb\n127\.0\.0\.1\tlocalhost/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
