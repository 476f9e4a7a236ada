import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lastLine } from './forwarder.js';
import { parsePastaOptions, pastaArgs } from './pasta.js';
import type { PortMapping } from './types.js';

const tail = ['--pid', '/run/p.pid', '--netns', '/run/ns'];

describe('pasta', { timeout: 10_000 }, () => {
  test('with nothing published, nothing is forwarded in either direction and the gateway is not the host', () => {
    assert.deepEqual(pastaArgs([], [], '/run/ns', '/run/p.pid'), [
      '--config-net',
      '--runas',
      '0',
      '--quiet',
      '-t',
      'none',
      '-u',
      'none',
      '-T',
      'none',
      '-U',
      'none',
      '--no-map-gw',
      ...tail,
    ]);
  });

  test('-p becomes -t/-u specs with the host address and ranges; --map-gw keeps the gateway mapped', () => {
    const ports: PortMapping[] = [
      { host_ip: '127.0.0.1', host_port: 8080, container_port: 80, range: 1, protocol: 'tcp' },
      { host_ip: '', host_port: 5000, container_port: 6000, range: 3, protocol: 'udp' },
    ];
    assert.deepEqual(pastaArgs(['--map-gw', '-a', '10.0.2.5'], ports, '/run/ns', '/run/p.pid'), [
      '--config-net',
      '--runas',
      '0',
      '--quiet',
      '-t',
      '127.0.0.1/8080:80',
      '-u',
      '5000-5002:6000-6002',
      '-a',
      '10.0.2.5',
      '-T',
      'none',
      '-U',
      'none',
      ...tail,
    ]);
  });

  test("the user's own -t or debugging options replace berth's defaults", () => {
    const args = pastaArgs(['-t', '22', '--debug'], [], '/run/ns', '/run/p.pid');
    assert.ok(!args.includes('--quiet'), 'pasta refuses --quiet beside --debug');
    assert.equal(args.filter((a) => a === '-t').length, 1);
  });

  test('options berth sets itself are refused in one line', () => {
    for (const o of ['--netns', '--netns=/x', '-P', '--runas', '-f', '--userns']) {
      assert.throws(() => parsePastaOptions([o]), { message: /^--network pasta: berth sets \S+ itself; it cannot be given as an option$/ });
    }
    assert.deepEqual(parsePastaOptions(['-a', '10.0.2.5']), ['-a', '10.0.2.5']);
  });

  test("a failure's message is its last line, less the syslog noise pasta prints without a syslog and slirp4netns's warnings", () => {
    assert.equal(
      lastLine('outbound-addr has to be valid ipv4 address or interface name.WARNING: Support for seccomp is experimental\n'),
      'outbound-addr has to be valid ipv4 address or interface name.',
    );
    assert.equal(
      lastLine("Failed to send 47 bytes to syslog\nFailed to bind any port for '-t 1', exiting\nFailed to send 9 bytes to syslog\n"),
      "Failed to bind any port for '-t 1', exiting",
    );
  });
});
