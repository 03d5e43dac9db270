import { describe, expect, it } from 'vitest';
import { isInternalHostName } from './host-name-policy';

describe('isInternalHostName', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'localhost.',
    'app.localhost',
    'localhost.localdomain',
    'metadata.google.internal',
    'metadata.google.internal.',
    'metadata',
    'instance-data',
    'kubernetes',
    'kubernetes.default.svc',
    'redis.cache.svc.cluster.local',
    'printer.local',
    'router.home.arpa',
    '1.0.0.127.in-addr.arpa',
  ])('treats %s as internal', (name) => {
    expect(isInternalHostName(name)).toBe(true);
  });

  it.each([
    'example.com',
    'images.example.com.',
    'localhost.example.com',
    'internal.example.com',
    'cdn.svc.example.net',
  ])('treats %s as public', (name) => {
    expect(isInternalHostName(name)).toBe(false);
  });
});
