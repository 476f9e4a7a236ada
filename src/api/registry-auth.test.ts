import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from './errors.js';
import { credsOf, decodeRegistryAuth, decodeRegistryConfig, isDockerInsecureByDefault, registryHost, registryOptionsFor } from './registry-auth.js';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('registry credentials from Docker clients', { timeout: 10_000 }, () => {
  test('X-Registry-Auth: base64url or base64 JSON; empty and {} are no credentials', () => {
    const auth = { username: 'alice', password: 's3cret?>', serveraddress: '127.0.0.1:5000' };
    assert.deepEqual(decodeRegistryAuth(b64url(auth)), auth);
    assert.deepEqual(decodeRegistryAuth(Buffer.from(JSON.stringify(auth)).toString('base64')), auth);
    assert.equal(decodeRegistryAuth(undefined), undefined);
    assert.equal(decodeRegistryAuth(''), undefined);
    assert.equal(credsOf(decodeRegistryAuth('e30=')), undefined);
    // Go decodes JSON keys without regard to case.
    assert.deepEqual(decodeRegistryAuth(b64url({ Username: 'bob', Password: 'pw' })), { username: 'bob', password: 'pw' });
    assert.throws(
      () => decodeRegistryAuth('%%%not-json'),
      (e: unknown) => e instanceof ApiError && e.status === 400,
    );
  });

  test('X-Registry-Config: credentials by registry, keyed by host', () => {
    const header = b64url({ 'https://index.docker.io/v1/': { username: 'hub', password: 'h' }, 'http://127.0.0.1:5000': { username: 'local', password: 'l' } });
    const config = decodeRegistryConfig(header);
    assert.deepEqual(config.get('docker.io'), { username: 'hub', password: 'h' });
    assert.deepEqual(config.get('127.0.0.1:5000'), { username: 'local', password: 'l' });
    assert.equal(decodeRegistryConfig(undefined).size, 0);
    assert.throws(
      () => decodeRegistryConfig('!!'),
      (e: unknown) => e instanceof ApiError && e.status === 400,
    );
  });

  test('an identity token wins over a password', () => {
    assert.deepEqual(credsOf({ username: 'alice', password: 'x' }), { username: 'alice', password: 'x' });
    assert.deepEqual(credsOf({ identitytoken: 'tok' }), { username: '', password: '', identityToken: 'tok' });
  });

  test('/auth server addresses become hosts', () => {
    assert.equal(registryHost('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(registryHost('http://127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(registryHost('Registry.Example.com:443/v2/'), 'registry.example.com:443');
    assert.equal(registryHost(undefined), 'docker.io');
  });

  test('127.0.0.0/8 is insecure by default, as with dockerd; other registries follow registries.conf', () => {
    assert.ok(isDockerInsecureByDefault('127.0.0.1:5000'));
    assert.ok(isDockerInsecureByDefault('127.1.2.3'));
    assert.ok(isDockerInsecureByDefault('localhost:5000'));
    assert.ok(isDockerInsecureByDefault('[::1]:5000'));
    assert.ok(!isDockerInsecureByDefault('128.0.0.1:5000'));
    assert.ok(!isDockerInsecureByDefault('docker.io'));
    assert.deepEqual(registryOptionsFor('127.0.0.1:5000', undefined), { tlsVerify: false });
    assert.deepEqual(registryOptionsFor('quay.io', { username: 'a', password: 'b' }), { creds: { username: 'a', password: 'b' } });
  });
});
