import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bmpBomb,
  encodeBmp,
  gifClaiming,
  jpegClaiming,
  pngClaiming,
} from '../../libs/imaging/test/image-fixtures';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

interface V1Prediction {
  predictions: Array<{ label: string; confidence: number }>;
  image: { format: string; width: number; height: number };
}

interface Problem {
  status: number;
  code: string;
  detail: string;
}

/**
 * One real photo re-encoded into every supported format and variant (generated here, nothing committed):
 * each upload must decode to the same dish, proving the conversions (CMYK, 16-bit, palette, alpha,
 * orientation, first GIF frame, BMP) reach the model as the right RGB pixels.
 */
describe('image intake: every supported format reaches the model as the same photo', () => {
  let running: RunningApp;
  const photo = foodPhotos().find((candidate) => candidate.file === 'pizza__1.jpg')!;
  const jpeg = readFileSync(photo.path);
  const variants: Record<string, { bytes: Buffer; format: string }> = {};
  let width = 0;
  let height = 0;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
    const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    ({ width, height } = info);
    const raw = () => sharp(data, { raw: { width, height, channels: 3 } });
    // Stored turned 90° anticlockwise with EXIF orientation 6 (display turns it clockwise back).
    const turned = await raw().rotate(-90).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer();
    const rgba = await raw().ensureAlpha(1).png().toBuffer();
    Object.assign(variants, {
      'progressive JPEG': {
        bytes: await raw().jpeg({ quality: 92, progressive: true }).toBuffer(),
        format: 'jpeg',
      },
      'CMYK JPEG': {
        bytes: await raw().toColourspace('cmyk').jpeg({ quality: 92 }).toBuffer(),
        format: 'jpeg',
      },
      'JPEG with EXIF orientation 6': { bytes: turned, format: 'jpeg' },
      '16-bit PNG': { bytes: await raw().toColourspace('rgb16').png().toBuffer(), format: 'png' },
      'palette PNG': { bytes: await raw().png({ palette: true, colours: 256 }).toBuffer(), format: 'png' },
      'opaque RGBA PNG': { bytes: rgba, format: 'png' },
      WebP: { bytes: await raw().webp({ quality: 92 }).toBuffer(), format: 'webp' },
      GIF: { bytes: await raw().gif().toBuffer(), format: 'gif' },
      '24-bit BMP': { bytes: encodeBmp(data, width, height), format: 'bmp' },
    });
  });

  afterAll(async () => {
    await running?.close();
  });

  async function upload(bytes: Buffer, name: string): Promise<Response> {
    const form = new FormData();
    // A misleading file name: the format is sniffed from the bytes.
    form.append('image', new Blob([bytes], { type: 'image/jpeg' }), `${name}.jpg`);
    return fetch(`${running.baseUrl}/v1/predictions`, { method: 'POST', body: form });
  }

  it('the original JPEG is a pizza', async () => {
    const response = await upload(jpeg, 'original');
    expect(response.status).toBe(200);
    expect(((await response.json()) as V1Prediction).predictions[0].label).toBe(photo.label);
  });

  it.each([
    'progressive JPEG',
    'CMYK JPEG',
    'JPEG with EXIF orientation 6',
    '16-bit PNG',
    'palette PNG',
    'opaque RGBA PNG',
    'WebP',
    'GIF',
    '24-bit BMP',
  ])('a %s is still a pizza', async (variant) => {
    const { bytes, format } = variants[variant];
    const response = await upload(bytes, variant);
    expect(response.status).toBe(200);
    const result = (await response.json()) as V1Prediction;
    expect(result.image).toEqual({ format, width, height });
    expect(result.predictions[0].label).toBe(photo.label);
  });

  async function expectProblem(response: Response, status: number, code: string): Promise<void> {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as Problem;
    expect({ status: response.status, code: body.code }).toEqual({ status, code });
  }

  it('refuses decompression bombs from the header', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#ff0000' } })
      .gif()
      .toBuffer();
    for (const bomb of [
      pngClaiming(png, 50_000, 50_000),
      jpegClaiming(jpeg, 50_000, 50_000),
      gifClaiming(gif, 65_535, 65_535),
      bmpBomb(50_000, 50_000),
    ]) {
      await expectProblem(await upload(bomb, 'bomb'), 413, 'image_too_many_pixels');
    }
  });

  it('refuses SVG, text and truncated files', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    await expectProblem(await upload(svg, 'drawing'), 422, 'unsupported_image');
    await expectProblem(
      await upload(Buffer.from('not an image, just text'), 'notes'),
      422,
      'unsupported_image',
    );
    await expectProblem(
      await upload(jpeg.subarray(0, Math.floor(jpeg.length * 0.7)), 'cut'),
      422,
      'unsupported_image',
    );
  });

  it('is still alive afterwards', async () => {
    expect((await fetch(`${running.baseUrl}/health/live`)).status).toBe(200);
  });
});
