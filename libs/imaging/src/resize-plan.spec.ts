import { describe, expect, it } from 'vitest';
import { planResize } from './resize-plan';

describe('planResize', () => {
  it('fill stretches the whole image over the target', () => {
    expect(planResize(640, 480, { width: 224, height: 224, fit: 'fill' })).toEqual({
      crop: { left: 0, top: 0, width: 640, height: 480 },
      placed: { left: 0, top: 0, width: 224, height: 224 },
    });
  });

  it('cover takes the centred box of Keras smart_resize', () => {
    // crop_height = min(480, int(640·224/224)) = 480; crop_width = min(640, int(480·224/224)) = 480;
    // start = int((640 − 480) / 2) = 80.
    expect(planResize(640, 480, { width: 224, height: 224, fit: 'cover' }).crop).toEqual({
      left: 80,
      top: 0,
      width: 480,
      height: 480,
    });
    // Portrait into landscape: crop_height = int(300·100/200) = 150, start = int((501 − 150) / 2) = 175.
    expect(planResize(300, 501, { width: 200, height: 100, fit: 'cover' }).crop).toEqual({
      left: 0,
      top: 175,
      width: 300,
      height: 150,
    });
  });

  it('contain keeps the aspect ratio and centres the image like tf.image.resize_with_pad', () => {
    // ratio = max(640/224, 480/224); resized 224 × 168; padding (224 − 168) / 2 = 28 rows.
    expect(planResize(640, 480, { width: 224, height: 224, fit: 'contain' }).placed).toEqual({
      left: 0,
      top: 28,
      width: 224,
      height: 168,
    });
  });

  it('never plans an empty image, even for extreme aspect ratios', () => {
    const { placed } = planResize(40_000, 1, { width: 224, height: 224, fit: 'contain' });
    expect(placed.height).toBe(1);
    const { crop } = planResize(1, 40_000, { width: 224, height: 224, fit: 'cover' });
    expect(crop.width).toBe(1);
    expect(crop.height).toBe(1);
  });
});
