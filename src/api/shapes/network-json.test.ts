import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRecord, Network } from '../../engine/index.js';
import { ApiError } from '../errors.js';
import { dockerNetwork, dockerNetworkName, engineNetworkName, networkCreateOptions, pseudoNetwork, pseudoNetworkId } from './network-json.js';

const network: Network = {
  name: 'web',
  id: 'a'.repeat(64),
  driver: 'bridge',
  network_interface: 'berthaaaaaaaaaa',
  created: '2026-12-03T14:37:35.936123456Z',
  subnets: [{ subnet: '10.213.77.0/24', gateway: '10.213.77.1', lease_range: { start_ip: '10.213.77.129', end_ip: '10.213.77.255' } }],
  ipv6_enabled: false,
  internal: true,
  dns_enabled: true,
  labels: { team: 'api' },
  options: { isolate: 'true', mtu: '1400' },
  ipam_options: { driver: 'host-local' },
};

function container(id: string, status: 'running' | 'exited', networks: Record<string, string[]>): ContainerRecord {
  return {
    id,
    name: `c-${id}`,
    state: {
      status,
      network: {
        netns: '/run/netns/x',
        ports: [],
        networks: Object.fromEntries(
          Object.entries(networks).map(([name, ipnets]) => [
            name,
            { network, ips: [], status: { interfaces: { eth0: { mac_address: '02:00:00:00:00:01', subnets: ipnets.map((ipnet) => ({ ipnet })) } } } },
          ]),
        ),
      },
    },
  } as unknown as ContainerRecord;
}

describe('network-json: networks in the Docker API', { timeout: 10_000 }, () => {
  test('a definition in Docker’s shape: IPAM with the range as a CIDR, isolate hidden, running containers’ endpoints with prefixes', () => {
    const shown = dockerNetwork(network, [
      container('1', 'running', { web: ['10.213.77.130/24', 'fd00::5/64'] }),
      container('2', 'exited', { web: ['10.213.77.131/24'] }),
      container('3', 'running', { other: ['10.1.0.2/24'] }),
    ]);
    assert.deepEqual(shown, {
      Name: 'web',
      Id: network.id,
      Created: network.created,
      Scope: 'local',
      Driver: 'bridge',
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.213.77.0/24', Gateway: '10.213.77.1', IPRange: '10.213.77.128/25' }] },
      Internal: true,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: { '1': { Name: 'c-1', EndpointID: '', MacAddress: '02:00:00:00:00:01', IPv4Address: '10.213.77.130/24', IPv6Address: 'fd00::5/64' } },
      Options: { 'com.docker.network.driver.mtu': '1400' },
      Labels: { team: 'api' },
    });
  });

  test('options go out under the names a Docker client gave them (compose compares them), the bridge’s name only when one was given', () => {
    const { options } = networkCreateOptions({
      Name: 'web',
      Options: { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.name': 'br-web' },
    });
    const made: Network = { ...network, options: options.options!, network_interface: options.interfaceName! };
    assert.deepEqual(dockerNetwork(made, []).Options, { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.name': 'br-web' });
    assert.deepEqual(dockerNetwork({ ...network, options: { isolate: 'true' } }, []).Options, {});
    const lan: Network = { ...network, driver: 'macvlan', network_interface: 'eth0', options: { mode: 'private' } };
    assert.deepEqual(dockerNetwork(lan, []).Options, { macvlan_mode: 'private', parent: 'eth0' });
  });

  test('the default network is Docker’s bridge both ways; host and none are pseudo-networks with stable IDs per store', () => {
    assert.equal(dockerNetworkName('podman'), 'bridge');
    assert.equal(engineNetworkName('bridge'), 'podman');
    assert.equal(engineNetworkName('web'), 'web');
    assert.equal(dockerNetwork({ ...network, name: 'podman' }, []).Name, 'bridge');
    assert.equal(pseudoNetworkId('/a', 'host'), pseudoNetworkId('/a', 'host'));
    assert.notEqual(pseudoNetworkId('/a', 'host'), pseudoNetworkId('/a', 'none'));
    assert.notEqual(pseudoNetworkId('/a', 'host'), pseudoNetworkId('/b', 'host'));
    assert.match(pseudoNetworkId('/a', 'none'), /^[0-9a-f]{64}$/);
    const none = pseudoNetwork('none', 'x', 't');
    assert.equal(none.Driver, 'null');
    assert.deepEqual(none.IPAM.Config, []);
    assert.equal(pseudoNetwork('host', 'x', 't').Driver, 'host');
  });

  test('a create request becomes the engine’s options: IPAM configs by position, Docker’s option names, warnings for the rest', () => {
    const { options, warnings } = networkCreateOptions({
      Name: 'web',
      Internal: true,
      EnableIPv6: true,
      CheckDuplicate: true,
      IPAM: {
        Driver: 'default',
        Config: [
          { Subnet: '10.213.77.0/24', IPRange: '10.213.77.128/25' },
          { Subnet: 'fd00:1::/64', Gateway: 'fd00:1::fe' },
        ],
      },
      Options: { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.name': 'br-web', 'com.docker.network.bridge.enable_icc': 'true' },
      Labels: { team: 'api' },
    });
    assert.deepEqual(options, {
      name: 'web',
      driver: 'bridge',
      subnets: ['10.213.77.0/24', 'fd00:1::/64'],
      gateways: ['', 'fd00:1::fe'],
      ipRanges: ['10.213.77.128/25', ''],
      ipv6: true,
      internal: true,
      labels: { team: 'api' },
      options: { isolate: 'true', mtu: '1400' },
      interfaceName: 'br-web',
    });
    assert.deepEqual(warnings, ['"com.docker.network.bridge.enable_icc: true" is not a recognized option']);
    const macvlan = networkCreateOptions({ Name: 'lan', Driver: 'macvlan', Options: { parent: 'eth0', macvlan_mode: 'private' } });
    assert.deepEqual(macvlan.options.options, { parent: 'eth0', mode: 'private' });
  });

  test('refusals: the predefined names (403), another driver or IPAM driver (404, plugin not found), no name or a range without its subnet (400)', () => {
    const status = (body: Parameters<typeof networkCreateOptions>[0]) => {
      try {
        networkCreateOptions(body);
      } catch (e) {
        assert.ok(e instanceof ApiError, String(e));
        return e.status;
      }
      return 0;
    };
    assert.equal(status({ Name: 'bridge' }), 403);
    assert.equal(status({ Name: 'none' }), 403);
    assert.equal(status({ Name: 'x', Driver: 'overlay' }), 404);
    assert.equal(status({ Name: 'x', IPAM: { Driver: 'dhcp' } }), 404);
    assert.equal(status({}), 400);
    assert.equal(status({ Name: 'x', IPAM: { Config: [{ Gateway: '10.0.0.1' }] } }), 400);
    assert.equal(status({ Name: 'x', IPAM: { Config: [{}] } }), 0);
  });
});
