import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { assignHostPorts } from './port-assignment.js';
import { formatPortsForPs, inspectPorts, portCommandLines } from './port-output.js';
import { checkConflicts, exposedFromImage, parseExpose, parsePublish, publishAllMappings } from './ports.js';
import type { PortMapping } from './types.js';

/** A mapping with podman's defaults for what is not given. */
function pm(m: Partial<PortMapping> & { container_port: number }): PortMapping {
  return { host_ip: '', host_port: 0, range: 1, protocol: 'tcp', ...m };
}

function usageError(message: string): { name: string; code: string; message: string } {
  return { name: 'BerthError', code: 'USAGE', message };
}

describe('parsePublish', { timeout: 10_000 }, () => {
  test('takes every form of -p podman takes', () => {
    assert.deepEqual(parsePublish('80'), [pm({ container_port: 80 })]);
    assert.deepEqual(parsePublish('8080:80'), [pm({ container_port: 80, host_port: 8080 })]);
    assert.deepEqual(parsePublish(':80'), [pm({ container_port: 80 })]);
    assert.deepEqual(parsePublish('127.0.0.1:8080:80'), [pm({ host_ip: '127.0.0.1', container_port: 80, host_port: 8080 })]);
    assert.deepEqual(parsePublish('127.0.0.1::80'), [pm({ host_ip: '127.0.0.1', container_port: 80 })]);
    // 0.0.0.0 is every address, kept as '' as podman keeps it.
    assert.deepEqual(parsePublish('0.0.0.0:8080:80'), [pm({ container_port: 80, host_port: 8080 })]);
    assert.deepEqual(parsePublish('8080:80/udp'), [pm({ container_port: 80, host_port: 8080, protocol: 'udp' })]);
    assert.deepEqual(parsePublish('8080:80/sctp'), [pm({ container_port: 80, host_port: 8080, protocol: 'sctp' })]);
    assert.deepEqual(parsePublish('80/UDP'), [pm({ container_port: 80, protocol: 'udp' })]);
  });

  test('gives one mapping per protocol of a list, duplicates dropped', () => {
    assert.deepEqual(parsePublish('53:53/tcp,udp'), [pm({ container_port: 53, host_port: 53 }), pm({ container_port: 53, host_port: 53, protocol: 'udp' })]);
    assert.deepEqual(parsePublish('53/udp,tcp,udp'), [pm({ container_port: 53, protocol: 'udp' }), pm({ container_port: 53 })]);
    // An empty item is tcp, as podman's checkProtocol has it.
    assert.deepEqual(parsePublish('53/udp,'), [pm({ container_port: 53, protocol: 'udp' }), pm({ container_port: 53 })]);
  });

  test('takes ranges on either side', () => {
    assert.deepEqual(parsePublish('8000-8010:80-90'), [pm({ container_port: 80, host_port: 8000, range: 11 })]);
    assert.deepEqual(parsePublish('8000-8010'), [pm({ container_port: 8000, range: 11 })]);
    assert.deepEqual(parsePublish('127.0.0.1::9000-9001/udp'), [pm({ host_ip: '127.0.0.1', container_port: 9000, range: 2, protocol: 'udp' })]);
    assert.deepEqual(parsePublish('1-65535'), [pm({ container_port: 1, range: 65535 })]);
  });

  test('takes IPv6 host addresses in brackets, written as Go writes them', () => {
    assert.deepEqual(parsePublish('[::1]:8080:80'), [pm({ host_ip: '::1', container_port: 80, host_port: 8080 })]);
    assert.deepEqual(parsePublish('[::1]::80'), [pm({ host_ip: '::1', container_port: 80 })]);
    assert.deepEqual(parsePublish('[2001:DB8:0:0:0:0:0:1]:8080:80/udp'), [
      pm({ host_ip: '2001:db8::1', container_port: 80, host_port: 8080, protocol: 'udp' }),
    ]);
    assert.deepEqual(parsePublish('[::]:8080:80'), [pm({ host_ip: '::', container_port: 80, host_port: 8080 })]);
    // An IPv4-mapped address is IPv4 to Go.
    assert.deepEqual(parsePublish('[::ffff:127.0.0.1]:8080:80'), [pm({ host_ip: '127.0.0.1', container_port: 80, host_port: 8080 })]);
  });

  test('refuses bad specs with podman 4.3 words', () => {
    const cases: [string, string][] = [
      ['', 'must provide a non-empty container port to publish'],
      ['8080:', 'must provide a non-empty container port to publish'],
      ['80/', 'must provide a non-empty protocol to publish'],
      ['80/tcp/udp', 'invalid port format - protocol can only be specified once'],
      ['80/foo', 'unrecognized protocol "foo" in port mapping'],
      ['80/tcp,icmp', 'unrecognized protocol "icmp" in port mapping'],
      ['0', 'parsing container port: port numbers must be between 1 and 65535 (inclusive), got 0'],
      ['65536', 'parsing container port: port numbers must be between 1 and 65535 (inclusive), got 65536'],
      ['70000:80', 'parsing host port: port numbers must be between 1 and 65535 (inclusive), got 70000'],
      ['http', 'parsing container port: invalid port number: strconv.Atoi: parsing "http": invalid syntax'],
      ['99999999999999999999', 'parsing container port: invalid port number: strconv.Atoi: parsing "99999999999999999999": value out of range'],
      ['127.0.0.1:80', 'parsing host port: invalid port number: strconv.Atoi: parsing "127.0.0.1": invalid syntax'],
      ['-80', 'parsing container port: port numbers cannot be negative'],
      ['80-', 'parsing container port: must provide ending number for port range'],
      ['80-90-100', 'parsing container port: invalid port format - port ranges are formatted as startPort-stopPort'],
      ['90-80', 'parsing container port: the end port of a range must be higher than the start port - 80 is not higher than 90'],
      ['80-80', 'parsing container port: the end port of a range must be higher than the start port - 80 is not higher than 80'],
      ['8000-8001:80-90', 'host and container port ranges have different lengths: 2 vs 11'],
      ['8080:80-81', 'host and container port ranges have different lengths: 1 vs 2'],
      ['1.2.3:8080:80', 'cannot parse "1.2.3" as an IP address'],
      ['localhost:8080:80', 'cannot parse "localhost" as an IP address'],
      ['[fe80::1%eth0]:8080:80', 'cannot parse "fe80::1%eth0" as an IP address'],
      [':8080:80', 'must provide a non-empty container host IP to publish'],
      ['[]:8080:80', 'must provide a non-empty container host IP to publish'],
      ['1:2:3:4', 'invalid port format - format is [[hostIP:]hostPort:]containerPort'],
      ['::1:8080:80', 'invalid port format - format is [[hostIP:]hostPort:]containerPort'],
      ['::1]:8080:80', 'invalid port format - IPv6 addresses must be enclosed by []'],
      ['[::1]8080:80', "invalid port format - IPv6 address must be followed by a colon (':')"],
      ['[::1]:80', 'invalid port format - must provide host and destination port if specifying an IP'],
      ['[::1]:1:2:3', 'invalid port format - when v6 address specified, must be [ipv6]:hostPort:ctrPort'],
      ['[::1]:[::2]:80', 'invalid port format - at most one IPv6 address can be specified in a --publish'],
    ];
    for (const [spec, message] of cases) assert.throws(() => parsePublish(spec), usageError(message), spec);
  });
});

describe('parseExpose and exposedFromImage', { timeout: 10_000 }, () => {
  test('takes ports, ranges and protocols, dropping repeats', () => {
    assert.deepEqual(parseExpose(['80', '80/udp', '8000-8002/tcp', '80/tcp', '53/UDP,443']), [
      { port: 80, protocol: 'tcp' },
      { port: 80, protocol: 'udp' },
      { port: 8000, protocol: 'tcp' },
      { port: 8001, protocol: 'tcp' },
      { port: 8002, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
      { port: 443, protocol: 'tcp' },
    ]);
    assert.deepEqual(parseExpose([]), []);
  });

  test('refuses bad values with podman 4.3 words', () => {
    const cases: [string, string][] = [
      ['80/tcp/udp', 'invalid expose format - protocol can only be specified once'],
      ['', 'port numbers cannot be negative'],
      ['0', 'port numbers must be between 1 and 65535 (inclusive), got 0'],
      ['http', 'invalid port number: strconv.Atoi: parsing "http": invalid syntax'],
      ['90-80', 'the end port of a range must be higher than the start port - 80 is not higher than 90'],
      ['80/foo', 'validating protocols for exposed port 80: unrecognized protocol "foo" in port mapping'],
      ['80/sctp', 'validating protocols for exposed port 80: protocol SCTP is not allowed for exposed ports'],
      // A comma separates values, as in podman's string-slice flag.
      ['53/tcp,udp', 'invalid port number: strconv.Atoi: parsing "udp": invalid syntax'],
    ];
    for (const [value, message] of cases) assert.throws(() => parseExpose([value]), usageError(message), value);
  });

  test("reads an image config's ExposedPorts keys", () => {
    assert.deepEqual(exposedFromImage({ '80/tcp': {}, '53/udp': {}, '8000-8001/tcp': {} }), [
      { port: 80, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
      { port: 8000, protocol: 'tcp' },
      { port: 8001, protocol: 'tcp' },
    ]);
    assert.deepEqual(exposedFromImage({ '443': {} }), [{ port: 443, protocol: 'tcp' }]);
    assert.deepEqual(exposedFromImage({ '53/tcp,udp': {} }), [
      { port: 53, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
    ]);
    assert.deepEqual(exposedFromImage(undefined), []);
    assert.deepEqual(exposedFromImage(null), []);
    assert.throws(
      () => exposedFromImage({ 'x/tcp': {} }),
      usageError('unable to convert image EXPOSE: invalid port number: strconv.Atoi: parsing "x": invalid syntax'),
    );
  });
});

describe('publishAllMappings', { timeout: 10_000 }, () => {
  test('gives each exposed port that -p does not publish a random host port', () => {
    const explicit = [pm({ container_port: 80, host_port: 8080 }), pm({ host_ip: '127.0.0.1', container_port: 9000, host_port: 9000, range: 2 })];
    const exposed = parseExpose(['80', '80/udp', '443', '9001', '9002']);
    assert.deepEqual(publishAllMappings(exposed, explicit), [
      ...explicit,
      pm({ container_port: 80, protocol: 'udp' }),
      pm({ container_port: 443 }),
      pm({ container_port: 9002 }),
    ]);
  });

  test('with nothing exposed, the explicit mappings as they are', () => {
    const explicit = [pm({ container_port: 80, host_port: 8080 })];
    assert.deepEqual(publishAllMappings([], explicit), explicit);
    assert.deepEqual(publishAllMappings([], []), []);
  });
});

describe('checkConflicts', { timeout: 10_000 }, () => {
  test('refuses one host port published to two container ports, in podman words', () => {
    const conflict = (port: number, proto: string) => usageError(`conflicting port mappings for host port ${port} (protocol ${proto})`);
    assert.throws(() => checkConflicts([...parsePublish('8080:80'), ...parsePublish('8080:81')]), conflict(8080, 'tcp'));
    assert.throws(() => checkConflicts([...parsePublish('1000-2000:2000-3000'), ...parsePublish('1999-2999:3001-4001')]), conflict(1999, 'tcp'));
    assert.throws(() => checkConflicts([...parsePublish('53:53/udp'), ...parsePublish('53:54/tcp,udp')]), conflict(53, 'udp'));
    // Every address ('') holds 127.0.0.1's port too.
    assert.throws(() => checkConflicts([...parsePublish('127.0.0.1:8080:80'), ...parsePublish('8080:80')]), conflict(8080, 'tcp'));
    assert.throws(() => checkConflicts([...parsePublish('[::]:8080:80'), ...parsePublish('[::1]:8080:81')]), conflict(8080, 'tcp'));
  });

  test('lets distinct addresses, protocols and ports be', () => {
    const m = [
      ...parsePublish('127.0.0.1:8080:80'),
      ...parsePublish('127.0.0.2:8080:81'),
      ...parsePublish('[::1]:8080:82'),
      ...parsePublish('8080:80/udp'),
      ...parsePublish('8081:80'),
    ];
    assert.deepEqual(checkConflicts(m), m);
  });

  test('joins repeats and continuing mappings as podman does', () => {
    assert.deepEqual(checkConflicts([...parsePublish('8080:80'), ...parsePublish('8080:80')]), [pm({ container_port: 80, host_port: 8080 })]);
    assert.deepEqual(checkConflicts([...parsePublish('8081:81'), ...parsePublish('8080:80'), ...parsePublish('8082-8083:82-83')]), [
      pm({ container_port: 80, host_port: 8080, range: 4 }),
    ]);
    assert.deepEqual(checkConflicts([...parsePublish('8000-8010:80-90'), ...parsePublish('8005:85')]), [
      pm({ container_port: 80, host_port: 8000, range: 11 }),
    ]);
    // Random ones join when their container ports overlap, not when they only adjoin.
    assert.deepEqual(checkConflicts([...parsePublish('80'), ...parsePublish('80-81'), ...parsePublish('83')]), [
      pm({ container_port: 80, range: 2 }),
      pm({ container_port: 83 }),
    ]);
    // Grouped by address and protocol, sorted, random ones last.
    assert.deepEqual(checkConflicts([...parsePublish('90'), ...parsePublish('9000:90/udp'), ...parsePublish('8081:81'), ...parsePublish('7000:70')]), [
      pm({ container_port: 70, host_port: 7000 }),
      pm({ container_port: 81, host_port: 8081 }),
      pm({ container_port: 90 }),
      pm({ container_port: 90, host_port: 9000, protocol: 'udp' }),
    ]);
  });
});

describe('assignHostPorts', { timeout: 30_000 }, () => {
  const open: (Server | UdpSocket)[] = [];
  after(async () => {
    await Promise.all(open.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  async function tcpListener(host: string, port = 0): Promise<number> {
    const server = createServer();
    open.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  async function udpSocket(host: string, port = 0): Promise<number> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    open.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, resolve);
    });
    return socket.address().port;
  }

  /** Binds and closes: the port is free. */
  async function bindable(protocol: 'tcp' | 'udp', host: string, port: number): Promise<void> {
    if (protocol === 'tcp') {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, resolve);
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    } else {
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, resolve);
      });
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  }

  /** A port free for TCP and UDP on every IPv4 address just now. */
  async function freePort(): Promise<number> {
    for (;;) {
      const server = createServer();
      const port = await new Promise<number>((resolve) => server.listen({ host: '0.0.0.0', port: 0 }, () => resolve((server.address() as AddressInfo).port)));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        await bindable('udp', '0.0.0.0', port);
        return port;
      } catch {
        // UDP holds it: draw again
      }
    }
  }

  async function ipv6Loopback(): Promise<boolean> {
    try {
      await bindable('tcp', '::1', 0);
      return true;
    } catch {
      return false;
    }
  }

  // exit 126: podman's `run` exits so when a port cannot be bound.
  const inUse = (message: string) => ({ name: 'BerthError', code: 'IO', exitCode: 126, message });

  test('refuses a TCP port a listener holds, naming address, port and protocol', async () => {
    const port = await tcpListener('127.0.0.1');
    await assert.rejects(
      assignHostPorts([pm({ host_ip: '127.0.0.1', container_port: 80, host_port: port })]),
      inUse(`cannot listen on the TCP port: listen tcp4 127.0.0.1:${port}: bind: address already in use`),
    );
    // On every address too, as 127.0.0.1 is one of them.
    await assert.rejects(
      assignHostPorts([pm({ container_port: 80, host_port: port })]),
      inUse(`cannot listen on the TCP port: listen tcp4 :${port}: bind: address already in use`),
    );
    // Inside a range.
    await assert.rejects(
      assignHostPorts([pm({ host_ip: '127.0.0.1', container_port: 80, host_port: port - 2, range: 5 })]),
      inUse(`cannot listen on the TCP port: listen tcp4 127.0.0.1:${port}: bind: address already in use`),
    );
    // The same port of the other protocol is free.
    const udp = await assignHostPorts([pm({ host_ip: '127.0.0.1', container_port: 80, host_port: port, protocol: 'udp' })]);
    assert.equal(udp[0]!.host_port, port);
  });

  test('refuses a UDP port a socket holds', async () => {
    const port = await udpSocket('127.0.0.1');
    await assert.rejects(
      assignHostPorts([pm({ host_ip: '127.0.0.1', container_port: 53, host_port: port, protocol: 'udp' })]),
      inUse(`cannot listen on the UDP port: listen udp4 127.0.0.1:${port}: bind: address already in use`),
    );
  });

  test('refuses an IPv6 port a listener holds, the address in brackets', async (t) => {
    if (!(await ipv6Loopback())) return t.skip('no IPv6 loopback here');
    const port = await tcpListener('::1');
    await assert.rejects(
      assignHostPorts([pm({ host_ip: '::1', container_port: 80, host_port: port })]),
      inUse(`cannot listen on the TCP port: listen tcp6 [::1]:${port}: bind: address already in use`),
    );
  });

  test('refuses an address the host does not have', async () => {
    await assert.rejects(
      assignHostPorts([pm({ host_ip: '192.0.2.1', container_port: 80, host_port: 8080 })]),
      inUse('cannot listen on the TCP port: listen tcp4 192.0.2.1:8080: bind: cannot assign requested address'),
    );
  });

  test('refuses ports other containers publish, without a socket on them', async () => {
    const taken = [
      pm({ container_port: 80, host_port: 40100, range: 10 }),
      pm({ host_ip: '127.0.0.1', container_port: 53, host_port: 40200, protocol: 'udp' }),
    ];
    await assert.rejects(
      assignHostPorts([pm({ host_ip: '127.0.0.1', container_port: 80, host_port: 40105 })], taken),
      inUse('cannot listen on the TCP port: listen tcp4 127.0.0.1:40105: bind: address already in use'),
    );
    await assert.rejects(
      assignHostPorts([pm({ container_port: 53, host_port: 40200, protocol: 'udp' })], taken),
      inUse('cannot listen on the UDP port: listen udp4 :40200: bind: address already in use'),
    );
    await assert.rejects(
      assignHostPorts([pm({ container_port: 80, host_port: 40109, protocol: 'sctp' })], [pm({ container_port: 1, host_port: 40109, protocol: 'sctp' })]),
      inUse('cannot listen on the SCTP port: listen sctp4 :40109: bind: address already in use'),
    );
    // Another protocol or another address is free (when nothing else on the host holds it).
    const free = await freePort();
    const others = [pm({ host_ip: '127.0.0.1', container_port: 53, host_port: free, protocol: 'udp' })];
    const ok = await assignHostPorts(
      [pm({ host_ip: '127.0.0.1', container_port: 80, host_port: free }), pm({ host_ip: '127.0.0.2', container_port: 53, host_port: free, protocol: 'udp' })],
      others,
    );
    assert.deepEqual(
      ok.map((m) => m.host_port),
      [free, free],
    );
  });

  test('refuses a range past 65535', async () => {
    await assert.rejects(
      assignHostPorts([pm({ container_port: 80, host_port: 65535, range: 2 })]),
      usageError('host port range exceeds maximum allowable port number'),
    );
  });

  test('picks free random ports, keeping order and the given ones', async () => {
    const given = await udpSocket('127.0.0.1');
    await new Promise<void>((resolve) => (open.pop() as UdpSocket).close(() => resolve()));
    const mappings = [
      pm({ host_ip: '127.0.0.1', container_port: 80 }),
      pm({ host_ip: '127.0.0.1', container_port: 53, host_port: given, protocol: 'udp' }),
      pm({ container_port: 53, protocol: 'udp' }),
      pm({ container_port: 443, protocol: 'sctp' }),
    ];
    const out = await assignHostPorts(mappings);
    assert.equal(out.length, 4);
    assert.deepEqual(
      out.map((m) => ({ ...m, host_port: 0 })),
      mappings.map((m) => ({ ...m, host_port: 0 })),
    );
    assert.equal(out[1]!.host_port, given);
    for (const m of [out[0]!, out[2]!, out[3]!]) assert.ok(m.host_port >= 1 && m.host_port <= 65535, String(m.host_port));
    await bindable('tcp', '127.0.0.1', out[0]!.host_port);
    await bindable('udp', '0.0.0.0', out[2]!.host_port);
    // The input is not changed.
    assert.equal(mappings[0]!.host_port, 0);
  });

  test('picks consecutive free ports for a random range', async () => {
    const [m] = await assignHostPorts([pm({ host_ip: '127.0.0.1', container_port: 8000, range: 20 })]);
    assert.ok(m!.host_port > 0 && m!.host_port + 19 <= 65535);
    for (let p = m!.host_port; p < m!.host_port + 20; p++) await bindable('tcp', '127.0.0.1', p);
  });

  test('gives up on a random port with podman words when every candidate is taken', async () => {
    const everything = [pm({ container_port: 1, host_port: 1, range: 65535 })];
    await assert.rejects(assignHostPorts([pm({ host_ip: '127.0.0.1', container_port: 80 })], everything), {
      name: 'BerthError',
      code: 'IO',
      message: 'failed to find an open port to expose container port 80 on the host',
    });
    await assert.rejects(assignHostPorts([pm({ container_port: 1, range: 65535 })]), {
      name: 'BerthError',
      code: 'IO',
      message: 'failed to find an open port to expose container port 1 with range 65535 on the host',
    });
  });

  test('random ports of one call differ', async () => {
    const out = await assignHostPorts([pm({ container_port: 80 }), pm({ container_port: 81 }), pm({ container_port: 82 })]);
    const ports = out.map((m) => m.host_port);
    assert.equal(new Set(ports).size, 3);
  });
});

describe('formatPortsForPs', { timeout: 10_000 }, () => {
  test("prints podman 4.3's PORTS column", () => {
    assert.equal(formatPortsForPs([]), '');
    assert.equal(
      formatPortsForPs([
        pm({ container_port: 80, host_port: 8080 }),
        pm({ host_ip: '127.0.0.1', container_port: 9000, host_port: 9000, range: 2, protocol: 'udp' }),
      ]),
      '0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->9000-9001/udp',
    );
    assert.equal(formatPortsForPs([pm({ host_ip: '::1', container_port: 80, host_port: 8080 })]), '::1:8080->80/tcp');
  });

  test('shows consecutive ports as one range, as podman joins them', () => {
    assert.equal(
      formatPortsForPs([pm({ container_port: 81, host_port: 8081 }), pm({ container_port: 80, host_port: 8080 }), pm({ container_port: 82, host_port: 8082 })]),
      '0.0.0.0:8080-8082->80-82/tcp',
    );
    // Not when the container side does not continue, or the protocol differs.
    assert.equal(
      formatPortsForPs([
        pm({ container_port: 80, host_port: 8080 }),
        pm({ container_port: 90, host_port: 8081 }),
        pm({ container_port: 81, host_port: 8081, protocol: 'udp' }),
      ]),
      '0.0.0.0:8080->80/tcp, 0.0.0.0:8081->90/tcp, 0.0.0.0:8081->81/udp',
    );
  });

  test('prints conflicting stored mappings as they are instead of failing', () => {
    assert.equal(
      formatPortsForPs([pm({ container_port: 80, host_port: 8080 }), pm({ container_port: 81, host_port: 8080 })]),
      '0.0.0.0:8080->80/tcp, 0.0.0.0:8080->81/tcp',
    );
  });
});

describe('inspectPorts', { timeout: 10_000 }, () => {
  test("gives podman 4.3's NetworkSettings.Ports", () => {
    const ports = inspectPorts(
      [
        pm({ container_port: 80, host_port: 8080 }),
        pm({ host_ip: '127.0.0.1', container_port: 9000, host_port: 19000, range: 2, protocol: 'udp' }),
        pm({ host_ip: '::1', container_port: 80, host_port: 8081 }),
      ],
      parseExpose(['443', '80', '9000/udp']),
    );
    assert.equal(
      JSON.stringify(ports),
      JSON.stringify({
        '443/tcp': null,
        '80/tcp': [
          { HostIp: '', HostPort: '8080' },
          { HostIp: '::1', HostPort: '8081' },
        ],
        '9000/udp': [{ HostIp: '127.0.0.1', HostPort: '19000' }],
        '9001/udp': [{ HostIp: '127.0.0.1', HostPort: '19001' }],
      }),
    );
    assert.deepEqual(inspectPorts([], []), {});
  });
});

describe('portCommandLines', { timeout: 10_000 }, () => {
  const mappings = [
    pm({ container_port: 80, host_port: 8080 }),
    pm({ host_ip: '127.0.0.1', container_port: 9000, host_port: 19000, range: 2, protocol: 'udp' }),
    pm({ host_ip: '127.0.0.1', container_port: 80, host_port: 8081 }),
  ];

  test('lists every published port without a filter', () => {
    assert.deepEqual(portCommandLines(mappings), [
      '80/tcp -> 0.0.0.0:8080',
      '9000/udp -> 127.0.0.1:19000',
      '9001/udp -> 127.0.0.1:19001',
      '80/tcp -> 127.0.0.1:8081',
    ]);
    assert.deepEqual(portCommandLines([]), []);
  });

  test('prints the host side of a port, tcp unless told', () => {
    assert.deepEqual(portCommandLines(mappings, '80'), ['0.0.0.0:8080', '127.0.0.1:8081']);
    assert.deepEqual(portCommandLines(mappings, '80/tcp'), ['0.0.0.0:8080', '127.0.0.1:8081']);
    assert.deepEqual(portCommandLines(mappings, '9001/udp'), ['127.0.0.1:19001']);
  });

  test("fails in podman's words for a port not published or not a port", () => {
    assert.throws(() => portCommandLines(mappings, '99/tcp'), usageError('failed to find published port "99/tcp"'));
    assert.throws(() => portCommandLines(mappings, '9000'), usageError('failed to find published port "9000"'));
    assert.throws(() => portCommandLines(mappings, '80/udp'), usageError('failed to find published port "80/udp"'));
    assert.throws(() => portCommandLines([], '80'), usageError('failed to find published port "80"'));
    assert.throws(() => portCommandLines(mappings, '80/tcp/x'), usageError("port formats are port/protocol. '80/tcp/x' is invalid"));
    assert.throws(() => portCommandLines(mappings, 'http'), usageError('strconv.ParseUint: parsing "http": invalid syntax'));
    assert.throws(() => portCommandLines(mappings, '70000'), usageError('strconv.ParseUint: parsing "70000": value out of range'));
  });
});
