import { request as httpRequest } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { blackHoleOpener, fakeDns, forbidNonLoopbackConnections, neverOpener } from './fetch-doubles';

// The SSRF suites rely on these doubles to keep every packet on loopback, so they are tested too — without
// any network: the real `connect` is swapped for a recorder first.
describe('test network guards', () => {
  const realConnect = Socket.prototype.connect;
  afterEach(() => {
    Socket.prototype.connect = realConnect;
  });

  function recordConnects(): string[] {
    const hosts: string[] = [];
    Socket.prototype.connect = function record(this: Socket, ...args: unknown[]) {
      const first = (Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0]) as { host?: string };
      hosts.push(first.host ?? '');
      return this;
    };
    return hosts;
  }

  it('forbidNonLoopbackConnections throws before a non-loopback connect and lets loopback through', () => {
    const hosts = recordConnects();
    const restore = forbidNonLoopbackConnections();
    expect(() => new Socket().connect({ host: '10.0.0.1', port: 80 })).toThrow(/TEST SAFETY/);
    expect(() => new Socket().connect(80, '169.254.169.254')).toThrow(/TEST SAFETY/);
    expect(() => httpRequest({ host: '93.184.216.34', port: 80 })).toThrow(/TEST SAFETY/);
    new Socket().connect({ host: '127.0.0.1', port: 80 });
    new Socket().connect({ host: '::1', port: 80 });
    restore();
    expect(hosts).toEqual(['127.0.0.1', '::1']);
  });

  it('blackHoleOpener never dials', async () => {
    const hosts = recordConnects();
    const opener = blackHoleOpener();
    const request = opener.open(new URL('http://example.com/'), {
      host: '93.184.216.34',
      port: 80,
      path: '/',
      agent: false,
    });
    request.on('error', () => undefined);
    request.end();
    await new Promise((resolve) => setTimeout(resolve, 20));
    request.destroy();
    expect(hosts).toEqual([]);
    expect(opener.targets).toEqual(['93.184.216.34']);
  });

  it('neverOpener refuses every request', () => {
    const opener = neverOpener();
    expect(() => opener.open(new URL('http://example.com/'), { host: '127.0.0.1' })).toThrow(/TEST SAFETY/);
  });

  it('fakeDns answers from its table, in turns for rebinding entries, and fails unknown names', async () => {
    const dns = fakeDns({
      'a.example': ['93.184.216.34'],
      'flip.example': [['93.184.216.34'], ['127.0.0.1']],
    });
    expect(await dns.resolve('a.example')).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect((await dns.resolve('flip.example'))[0].address).toBe('93.184.216.34');
    expect((await dns.resolve('flip.example'))[0].address).toBe('127.0.0.1');
    await expect(dns.resolve('nope.example')).rejects.toThrow(/ENOTFOUND/);
    expect(dns.lookups).toEqual(['a.example', 'flip.example', 'flip.example', 'nope.example']);
  });
});
