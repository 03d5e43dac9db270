import { describe, expect, it } from 'vitest';
import { validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('gives the documented defaults (PORT 5000 as the seed)', () => {
    const config = validateEnvironment({});
    expect(config.PORT).toBe(5000);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.MODEL_MANIFEST).toBe('model-artifacts/food-vision-efficientnetb0/manifest.json');
    expect(config.IMAGE_FETCH_ALLOWED_PORTS).toEqual([80, 443]);
    expect(config.IMAGE_FETCH_ALLOW_HOSTS).toEqual([]);
    expect(config.CORS_ORIGINS).toEqual(['*']);
  });

  it('reads numbers, lists and booleans from strings', () => {
    const config = validateEnvironment({
      PORT: '8080',
      IMAGE_FETCH_ALLOWED_PORTS: '80, 443,8443',
      IMAGE_FETCH_ALLOW_HOSTS: 'images.internal, 10.0.0.0/8',
      MODEL_WARMUP: 'false',
    });
    expect(config.PORT).toBe(8080);
    expect(config.IMAGE_FETCH_ALLOWED_PORTS).toEqual([80, 443, 8443]);
    expect(config.IMAGE_FETCH_ALLOW_HOSTS).toEqual(['images.internal', '10.0.0.0/8']);
    expect(config.MODEL_WARMUP).toBe(false);
  });

  it('names each invalid variable and its value in one message', () => {
    const message = (() => {
      try {
        validateEnvironment({ PORT: 'abc', MAX_IMAGE_BYTES: '-5', MODEL_WARMUP: 'maybe' });
        return 'no error';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/^Invalid configuration: /);
    expect(message).toContain('PORT="abc": PORT must be an integer number');
    expect(message).toContain('MAX_IMAGE_BYTES="-5": MAX_IMAGE_BYTES must not be less than 1024');
    expect(message).toContain('MODEL_WARMUP="maybe": MODEL_WARMUP must be a boolean value');
  });

  it('refuses a malformed allowlist CIDR', () => {
    expect(() => validateEnvironment({ IMAGE_FETCH_ALLOW_HOSTS: '10.0.0.0/99' })).toThrow(
      /IMAGE_FETCH_ALLOW_HOSTS entry "10.0.0.0\/99"/,
    );
  });
});
