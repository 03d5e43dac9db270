import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

describe('the seed service contract', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {}, { waitForModel: false });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('answers GET / with the welcome message, exactly', async () => {
    const response = await fetch(`${running.baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.text()).toBe('{"message":"Welcome to the Food Vision API!"}');
  });

  it('keeps CORS open to any origin, as the seed did, without credentials', async () => {
    const preflight = await fetch(`${running.baseUrl}/net/image/prediction/`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://some-frontend.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const simple = await fetch(`${running.baseUrl}/`, { headers: { origin: 'https://other.example' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('restricts CORS when CORS_ORIGINS lists origins', async () => {
    const restricted = await startTestApp(
      FIXTURE_MODELS.food101Tflite,
      { CORS_ORIGINS: 'https://allowed.example' },
      { waitForModel: false },
    );
    try {
      const allowed = await fetch(`${restricted.baseUrl}/`, {
        headers: { origin: 'https://allowed.example' },
      });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://allowed.example');
      const other = await fetch(`${restricted.baseUrl}/`, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await restricted.close();
    }
  });
});
