import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootlessResolvConf } from './rootless-netns.js';

describe('the resolv.conf aardvark-dns sees in the rootless netns', { timeout: 10_000 }, () => {
  test('a host whose resolvers are reachable from the namespace keeps its own', () => {
    assert.equal(rootlessResolvConf('nameserver 10.255.255.53\nsearch corp.example\n'), undefined);
  });

  test('a resolver on the host loopback (systemd-resolved) becomes slirp4netns’s DNS; the rest is kept', () => {
    assert.equal(
      rootlessResolvConf('# stub\nnameserver 127.0.0.53\nnameserver 10.1.1.1\noptions edns0 trust-ad\nsearch lan\n'),
      '# stub\noptions edns0 trust-ad\nsearch lan\nnameserver 10.0.2.3\nnameserver 10.1.1.1\n',
    );
    assert.equal(rootlessResolvConf('nameserver ::1\nnameserver 127.0.0.1\n'), 'nameserver 10.0.2.3\n');
  });

  test('no nameserver at all (the resolver then asks the loopback) is slirp4netns’s DNS too', () => {
    assert.equal(rootlessResolvConf(''), 'nameserver 10.0.2.3\n');
  });
});
