import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';

describe('the test network guard (setup file)', () => {
  // How the guard refuses (without any network) is tested in fetch-doubles.spec.ts.
  it('is installed for every test file', () => {
    expect(Socket.prototype.connect.name).toBe('guardedConnect');
  });
});
