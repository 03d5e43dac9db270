import { describe, expect, it } from 'vitest';
import { validateEnvironment } from '../config/environment';
import { predictionLogSettings, readPredictionLogEnvironment } from './prediction-log-settings';

const settingsOf = (env: Record<string, string>) => {
  const config = validateEnvironment(env);
  return predictionLogSettings(readPredictionLogEnvironment((key) => config[key]));
};

describe('prediction log settings', () => {
  it('are off unless a sink URL or a capture folder is configured', () => {
    expect(settingsOf({})).toEqual({});
  });

  it('read the sink with its documented defaults', () => {
    const { sink, capture } = settingsOf({ PREDICTION_LOG_URL: 'http://sink.example.com/events' });
    expect(capture).toBeUndefined();
    expect(sink).toEqual({
      url: new URL('http://sink.example.com/events'),
      mode: 'binary',
      bufferSize: 1000,
      concurrency: 4,
      timeoutMs: 2000,
      retries: 3,
      allowPrivate: false,
    });
  });

  it('read every sink variable', () => {
    const { sink } = settingsOf({
      PREDICTION_LOG_URL: 'https://127.0.0.1:8443/',
      PREDICTION_LOG_MODE: 'structured',
      PREDICTION_LOG_BUFFER: '10',
      PREDICTION_LOG_CONCURRENCY: '2',
      PREDICTION_LOG_TIMEOUT_MS: '300',
      PREDICTION_LOG_RETRIES: '0',
      PREDICTION_LOG_ALLOW_PRIVATE: 'true',
    });
    expect(sink).toMatchObject({
      mode: 'structured',
      bufferSize: 10,
      concurrency: 2,
      timeoutMs: 300,
      retries: 0,
      allowPrivate: true,
    });
    expect(sink?.url.href).toBe('https://127.0.0.1:8443/');
  });

  it('take the capture threshold from QUALITY_LOW_CONFIDENCE unless PREDICTION_CAPTURE_BELOW is set', () => {
    expect(settingsOf({ PREDICTION_CAPTURE_DIR: '/tmp/c', QUALITY_LOW_CONFIDENCE: '0.4' }).capture).toEqual({
      dir: '/tmp/c',
      below: 0.4,
      sample: 1,
      maxBytes: 100 * 1024 * 1024,
    });
    const capture = settingsOf({
      PREDICTION_CAPTURE_DIR: '/tmp/c',
      PREDICTION_CAPTURE_BELOW: '1',
      PREDICTION_CAPTURE_SAMPLE: '0.25',
      PREDICTION_CAPTURE_MAX_BYTES: '4096',
    }).capture;
    expect(capture).toMatchObject({ below: 1, sample: 0.25, maxBytes: 4096 });
  });

  it('refuses a sink URL that is not http(s), a bad mode and a share outside 0..1, naming each', () => {
    for (const [name, value] of [
      ['PREDICTION_LOG_URL', 'ftp://sink.example.com/'],
      ['PREDICTION_LOG_URL', 'not a url'],
      ['PREDICTION_LOG_MODE', 'batched'],
      ['PREDICTION_CAPTURE_SAMPLE', '1.5'],
      ['PREDICTION_CAPTURE_BELOW', '-0.1'],
      ['PREDICTION_LOG_BUFFER', '1'],
    ]) {
      expect(() => validateEnvironment({ [name]: value }), `${name}=${value}`).toThrow(
        new RegExp(`${name}=${JSON.stringify(value)}`),
      );
    }
  });
});
