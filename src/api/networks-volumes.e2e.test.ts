// /networks and /volumes through the docker CLI and raw requests against `berth system service`,
// with containers made by the berth CLI on the same store: what docker makes, berth sees, and back.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthService, type BerthService } from '../testing/berth-service.js';
import { inspectContainer } from '../testing/containers.js';
import { freeSubnet } from '../testing/free-subnet.js';
import { waitFor } from '../testing/wait.js';

const names = (stdout: string) => stdout.trim().split('\n').filter(Boolean).sort();

describe('API: networks and volumes', { timeout: 5 * 60_000 }, () => {
  let svc: BerthService;
  const tag = `nv${process.pid}`;
  const subnets: string[] = [];
  before(async () => {
    svc = await berthService();
  });
  after(async () => {
    await svc?.berth(['rm', '-af', '-t', '0']);
    await svc?.berth(['network', 'prune', '-f']);
    await svc?.berth(['volume', 'prune', '-f']);
    await svc?.stop();
    svc?.cleanup();
  });

  test('network create (--subnet, --internal, --label), ls, inspect, rm: berth sees what docker made; 409 and 404', async () => {
    const net = `${tag}-a`;
    const subnet = await freeSubnet(subnets);
    const made = await svc.docker(['network', 'create', '--subnet', subnet, '--internal', '--label', 'team=api', net]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout.trim(), /^[0-9a-f]{64}$/);

    const ls = await svc.docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    assert.equal(ls.code, 0, ls.stderr);
    // dockerd's three predefined networks, berth's default one among them as "bridge", and the new one.
    assert.deepEqual(names(ls.stdout), [`bridge bridge local`, `host host local`, `${net} bridge local`, `none null local`].sort());
    const byLabel = await svc.docker(['network', 'ls', '--filter', 'label=team=api', '--format', '{{.Name}}']);
    assert.deepEqual(names(byLabel.stdout), [net]);
    const custom = await svc.docker(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']);
    assert.deepEqual(names(custom.stdout), [net]);

    const inspect = await svc.docker([
      'network',
      'inspect',
      net,
      '--format',
      '{{.Name}} {{.Internal}} {{.Driver}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{.Labels.team}}',
    ]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(inspect.stdout.trim(), `${net} true bridge ${subnet} ${subnet.replace(/0\/24$/, '1')} api`);
    const berthView = JSON.parse((await svc.ok(['network', 'inspect', net])).stdout)[0];
    assert.equal(berthView.internal, true);
    assert.deepEqual(berthView.labels, { team: 'api' });
    assert.equal(berthView.subnets[0].subnet, subnet);

    // The default network answers to Docker's name and to berth's.
    const bridge = await svc.api('GET', '/v1.47/networks/bridge');
    assert.equal(bridge.status, 200);
    assert.equal(bridge.json().Name, 'bridge');
    assert.equal((await svc.api('GET', '/networks/podman')).json().Id, bridge.json().Id);

    const again = await svc.api('POST', '/networks/create', { Name: net, CheckDuplicate: true });
    assert.equal(again.status, 409);
    assert.match(again.json().message, /already exists/);
    assert.equal((await svc.api('POST', '/networks/create', { Name: 'host' })).status, 403);
    assert.equal((await svc.api('DELETE', '/networks/bridge')).status, 403);
    assert.equal((await svc.api('DELETE', '/networks/none')).status, 403);

    const rm = await svc.docker(['network', 'rm', net]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await svc.api('GET', `/networks/${net}`)).status, 404);
    assert.equal((await svc.api('DELETE', `/networks/${net}`)).status, 404);
    assert.equal((await svc.berth(['network', 'exists', net])).code, 1);
  });

  test('network connect --alias and disconnect of a container the berth CLI made; 403/400/404 codes', async () => {
    const net = `${tag}-c`;
    const ctr = `${tag}-ctr`;
    const subnet = await freeSubnet(subnets);
    await svc.ok(['run', '-d', '--name', ctr, 'busybox', 'sleep', '100']);
    const id = (await inspectContainer(svc, ctr)).Id as string;
    assert.equal((await svc.docker(['network', 'create', '--subnet', subnet, net])).code, 0);

    const connect = await svc.docker(['network', 'connect', '--alias', 'web', net, ctr]);
    assert.equal(connect.code, 0, connect.stderr);
    const settings = (await inspectContainer(svc, ctr)).NetworkSettings.Networks[net];
    assert.ok(settings, 'berth inspect shows the new network');
    assert.ok(settings.Aliases.includes('web'), JSON.stringify(settings.Aliases));
    assert.ok(settings.IPAddress.startsWith(subnet.replace(/0\/24$/, '')), settings.IPAddress);

    // The network's endpoint in Docker's shape (the address with its prefix), and the container on "bridge" too.
    const shown = (await svc.api('GET', `/networks/${net}`)).json();
    assert.deepEqual(Object.keys(shown.Containers), [id]);
    assert.equal(shown.Containers[id].Name, ctr);
    assert.equal(shown.Containers[id].IPv4Address, `${settings.IPAddress}/24`);
    assert.equal(shown.Containers[id].MacAddress, settings.MacAddress);
    assert.ok(Object.hasOwn((await svc.api('GET', '/networks/bridge')).json().Containers, id));
    const used = await svc.docker(['network', 'ls', '--filter', 'dangling=false', '--filter', 'type=custom', '--format', '{{.Name}}']);
    assert.deepEqual(names(used.stdout), [net]);

    assert.equal((await svc.api('POST', `/networks/${net}/connect`, { Container: ctr })).status, 403);
    assert.equal((await svc.api('POST', '/networks/host/connect', { Container: ctr })).status, 400);
    assert.equal((await svc.api('POST', `/networks/${net}/connect`, { Container: `${tag}-nosuch` })).status, 404);
    assert.equal((await svc.api('POST', `/networks/${tag}-nonet/connect`, { Container: ctr })).status, 404);
    const busy = await svc.api('DELETE', `/networks/${net}`);
    assert.equal(busy.status, 403);
    assert.match(busy.json().message, /active endpoints/);

    const disconnect = await svc.docker(['network', 'disconnect', net, ctr]);
    assert.equal(disconnect.code, 0, disconnect.stderr);
    assert.equal((await inspectContainer(svc, ctr)).NetworkSettings.Networks[net], undefined);
    assert.deepEqual((await svc.api('GET', `/networks/${net}`)).json().Containers, {});
    await svc.ok(['rm', '-f', '-t', '0', ctr]);
    assert.equal((await svc.docker(['network', 'rm', net])).code, 0);
  });

  test('network prune: --filter label takes only those; the predefined ones stay', async () => {
    const keep = `${tag}-keep`;
    const gone = `${tag}-gone`;
    assert.equal((await svc.docker(['network', 'create', '--subnet', await freeSubnet(subnets), keep])).code, 0);
    assert.equal((await svc.docker(['network', 'create', '--subnet', await freeSubnet(subnets), '--label', 'tmp=1', gone])).code, 0);
    const pruned = await svc.api('POST', `/networks/prune?filters=${encodeURIComponent(JSON.stringify({ label: ['tmp=1'] }))}`);
    assert.equal(pruned.status, 200);
    assert.deepEqual(pruned.json(), { NetworksDeleted: [gone] });
    const all = await svc.docker(['network', 'prune', '-f']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, new RegExp(keep));
    const left = await svc.docker(['network', 'ls', '--format', '{{.Name}}']);
    assert.deepEqual(names(left.stdout), ['bridge', 'host', 'none']);
  });

  test('volume create (named, labelled, anonymous), ls, inspect, rm; 404 and 409; prune by API version', async () => {
    const vol = `${tag}-vol`;
    const used = `${tag}-used`;
    assert.equal((await svc.docker(['volume', 'create', '--label', 'team=api', vol])).code, 0);
    const anon = (await svc.docker(['volume', 'create'])).stdout.trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    const inspect = await svc.docker(['volume', 'inspect', vol, '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels.team}} {{.Mountpoint}}']);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(inspect.stdout.trim(), `${vol} local local api ${join(svc.root, 'volumes', vol, '_data')}`);
    const raw = (await svc.api('GET', `/volumes/${vol}`)).json();
    assert.match(raw.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(Object.keys(raw).sort(), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.deepEqual(JSON.parse((await svc.ok(['volume', 'inspect', vol])).stdout)[0].Labels, { team: 'api' });

    // Creating a name that exists gives it back, as dockerd does; the local driver's mount options and other drivers are refused.
    const same = await svc.api('POST', '/volumes/create', { Name: vol });
    assert.equal(same.status, 201);
    assert.deepEqual(same.json().Labels, { team: 'api' });
    const opts = await svc.api('POST', '/volumes/create', { Name: `${tag}-dev`, DriverOpts: { type: 'none', o: 'bind', device: '/tmp' } });
    assert.equal(opts.status, 400);
    assert.match(opts.json().message, /"type"/);
    assert.equal((await svc.api('POST', '/volumes/create', { Name: `${tag}-nfs`, Driver: 'nfs' })).status, 404);
    assert.equal((await svc.berth(['volume', 'exists', `${tag}-dev`])).code, 1);

    assert.equal((await svc.docker(['volume', 'create', used])).code, 0);
    await svc.ok(['run', '-d', '--name', `${tag}-vctr`, '-v', `${used}:/data`, 'busybox', 'sleep', '100']);
    const dangling = await svc.docker(['volume', 'ls', '--filter', 'dangling=true', '--format', '{{.Name}}']);
    assert.deepEqual(names(dangling.stdout), [anon, vol].sort());
    const byLabel = await svc.docker(['volume', 'ls', '-q', '--filter', 'label=team=api']);
    assert.deepEqual(names(byLabel.stdout), [vol]);
    assert.equal((await svc.api('DELETE', `/volumes/${used}`)).status, 409);
    assert.equal((await svc.api('DELETE', `/volumes/${used}?force=1`)).status, 409, 'force does not take a volume from its container');
    assert.equal((await svc.api('GET', `/volumes/${tag}-nosuch`)).status, 404);
    assert.equal((await svc.api('DELETE', `/volumes/${tag}-nosuch`)).status, 404);
    assert.equal((await svc.api('DELETE', `/volumes/${tag}-nosuch?force=true`)).status, 204);

    // API 1.47: only the anonymous volume goes (Docker 23's prune); API 1.41: every unused one, with its bytes counted.
    const newer = await svc.docker(['volume', 'prune', '-f']);
    assert.equal(newer.code, 0, newer.stderr);
    assert.deepEqual(names((await svc.docker(['volume', 'ls', '-q'])).stdout), [used, vol].sort());
    writeFileSync(join(svc.root, 'volumes', vol, '_data', 'payload'), Buffer.alloc(8192, 1));
    const older = await svc.api('POST', '/v1.41/volumes/prune');
    assert.equal(older.status, 200);
    assert.deepEqual(older.json().VolumesDeleted, [vol]);
    assert.ok(older.json().SpaceReclaimed >= 8192, String(older.json().SpaceReclaimed));

    await svc.ok(['rm', '-f', '-t', '0', `${tag}-vctr`]);
    const rm = await svc.docker(['volume', 'rm', used]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(names((await svc.docker(['volume', 'ls', '-q'])).stdout), []);
  });

  test('a healthcheck (compose’s service_healthy) shows in inspect', async () => {
    const ctr = `${tag}-health`;
    await svc.ok(['run', '-d', '--name', ctr, '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '100']);
    try {
      const status = await waitFor(
        'a healthy status',
        async () => {
          const s = (await inspectContainer(svc, ctr)).State.Health?.Status;
          return s === 'healthy' ? s : undefined;
        },
        30_000,
      );
      assert.equal(status, 'healthy');
      // The API's container inspect is another module's (routes/containers.ts): checked here once it answers.
      const api = await svc.api('GET', `/containers/${ctr}/json`);
      if (api.status !== 404 || !/page not found/.test(api.body.toString())) {
        assert.equal(api.status, 200, api.body.toString());
        assert.equal(api.json().State.Health.Status, 'healthy');
      }
    } finally {
      await svc.ok(['rm', '-f', '-t', '0', ctr]);
    }
  });
});
