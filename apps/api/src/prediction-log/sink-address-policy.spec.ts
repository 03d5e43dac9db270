import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import type { HostResolver } from '@app/image-fetch';
import { ForbiddenSinkAddress, guardedLookup, sinkAddressRefusal } from './sink-address-policy';

describe('the sink address policy at start', () => {
  it('refuses private, loopback, link-local and cluster-internal sinks by their shape', () => {
    for (const url of [
      'http://127.0.0.1:9000/',
      'http://10.1.2.3/',
      'http://[::1]:8080/',
      'http://169.254.169.254/',
      'http://localhost:8080/',
      'http://message-dumper.default.svc.cluster.local/',
      'http://broker-ingress/',
    ]) {
      expect(sinkAddressRefusal(new URL(url), false), url).toMatch(/PREDICTION_LOG_ALLOW_PRIVATE=true/);
    }
  });

  it('lets public sinks through, and any sink when private ones are allowed', () => {
    expect(sinkAddressRefusal(new URL('https://events.example.com/ingest'), false)).toBeUndefined();
    expect(sinkAddressRefusal(new URL('http://93.184.216.34/'), false)).toBeUndefined();
    expect(sinkAddressRefusal(new URL('http://127.0.0.1:9000/'), true)).toBeUndefined();
    expect(sinkAddressRefusal(new URL('http://broker-ingress.knative-eventing.svc/'), true)).toBeUndefined();
  });
});

/** Calls the socket lookup as net.connect would, without any socket. */
function lookUp(resolver: HostResolver, options: { all?: boolean; family?: number } = {}) {
  return new Promise<{
    error: NodeJS.ErrnoException | null;
    address: string | LookupAddress[];
    family?: number;
  }>((resolve) =>
    guardedLookup(resolver)('sink.example.com', options, (error, address, family) =>
      resolve({ error, address, family }),
    ),
  );
}

describe('the sink address policy at each connection', () => {
  const answers =
    (...addresses: string[]): HostResolver =>
    () =>
      Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

  it('gives the resolver’s public answers to the socket', async () => {
    expect(await lookUp(answers('93.184.216.34', '2606:2800:220:1::248'))).toEqual({
      error: null,
      address: '93.184.216.34',
      family: 4,
    });
    expect((await lookUp(answers('93.184.216.34', '2606:2800:220:1::248'), { all: true })).address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::248', family: 6 },
    ]);
    expect((await lookUp(answers('93.184.216.34', '2606:2800:220:1::248'), { family: 6 })).address).toBe(
      '2606:2800:220:1::248',
    );
  });

  it('refuses the name when any answer is private (rebinding, a split answer)', async () => {
    for (const resolver of [
      answers('10.0.0.7'),
      answers('93.184.216.34', '127.0.0.1'),
      answers('::ffff:169.254.169.254'),
      answers('not-an-address'),
    ]) {
      const { error } = await lookUp(resolver);
      expect(error).toBeInstanceOf(ForbiddenSinkAddress);
      expect(error?.message).toMatch(/sink\.example\.com resolved to .*private or internal/);
    }
  });

  it('passes a resolver failure on, and answers ENOTFOUND when no answer fits the family', async () => {
    const failing: HostResolver = () =>
      Promise.reject(Object.assign(new Error('nope'), { code: 'EAI_AGAIN' }));
    expect((await lookUp(failing)).error?.code).toBe('EAI_AGAIN');
    expect((await lookUp(answers('93.184.216.34'), { family: 6 })).error?.code).toBe('ENOTFOUND');
  });
});
