import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBerthError } from '../util/errors.js';
import { checkSlirpPorts } from './slirp4netns.js';
import { parseSlirpOptions, slirpAddresses, slirpOptionArgs } from './slirp4netns-options.js';

const refused = (words: string[], message: RegExp) =>
  assert.throws(
    () => parseSlirpOptions(words),
    (e: unknown) => isBerthError(e, 'USAGE') && message.test(e.message) && !e.message.includes('\n'),
  );

describe('slirp4netns options', { timeout: 10_000 }, () => {
  test("none: podman's defaults, the host's loopback closed, IPv6 on", () => {
    const opts = parseSlirpOptions([]);
    assert.deepEqual(opts, { allowHostLoopback: false, cidr: '10.0.2.0/24', enableIpv6: true, mtu: 65520 });
    assert.deepEqual(slirpOptionArgs(opts), ['--configure', '--mtu=65520', '--disable-host-loopback', '--enable-ipv6']);
    assert.deepEqual(slirpAddresses(opts.cidr), { gateway: '10.0.2.2', dns: '10.0.2.3', container: '10.0.2.100' });
  });

  test('every option podman documents becomes its slirp4netns flag', () => {
    const opts = parseSlirpOptions([
      'allow_host_loopback=true',
      'cidr=10.0.3.7/24',
      'enable_ipv6=false',
      'mtu=1500',
      'outbound_addr=eth0',
      'port_handler=slirp4netns',
    ]);
    assert.deepEqual(slirpOptionArgs(opts), ['--configure', '--mtu=1500', '--cidr=10.0.3.0/24', '--outbound-addr=eth0']);
    assert.deepEqual(slirpAddresses(opts.cidr), { gateway: '10.0.3.2', dns: '10.0.3.3', container: '10.0.3.100' });
    assert.deepEqual(slirpOptionArgs(parseSlirpOptions(['outbound_addr=192.0.2.9', 'outbound_addr6=fd00::9'])).slice(-2), [
      '--outbound-addr=192.0.2.9',
      '--outbound-addr6=fd00::9',
    ]);
  });

  test('what berth cannot honour, or that is wrong, is refused in one line', () => {
    refused(['port_handler=rootlesskit'], /rootlesskit is not available in berth/);
    refused(['port_handler=other'], /port_handler must be slirp4netns/);
    refused(['allow_host_loopback=yes'], /allow_host_loopback must be true or false/);
    refused(['mtu=70000'], /mtu must be a number from 68 to 65521/);
    refused(['mtu=abc'], /mtu must be/);
    refused(['cidr=10.0.2.0/26'], /cidr must be an IPv4 subnet of \/25 or larger/);
    refused(['cidr=fd00::/64'], /cidr must be an IPv4 subnet/);
    refused(['outbound_addr=fd00::1'], /outbound_addr must be an IPv4 address or an interface name/);
    refused(['outbound_addr=a b'], /outbound_addr must be/);
    refused(['enable_ipv6=false', 'outbound_addr6=eth0'], /outbound_addr6 needs enable_ipv6=true/);
    refused(['sandbox=true'], /unknown option "sandbox=true"/);
  });

  test('ports: TCP and UDP on IPv4 host addresses, nothing else', () => {
    const tcp = { host_ip: '127.0.0.1', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' as const };
    checkSlirpPorts([tcp, { ...tcp, protocol: 'udp', host_ip: '' }]);
    assert.throws(() => checkSlirpPorts([{ ...tcp, host_ip: '::1' }]), /IPv4 host addresses only, not ::1/);
    assert.throws(() => checkSlirpPorts([{ ...tcp, protocol: 'sctp' }]), /cannot publish SCTP ports/);
  });
});
