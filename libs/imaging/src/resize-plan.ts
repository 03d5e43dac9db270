export type ResizeKernel = 'bilinear' | 'nearest' | 'bicubic' | 'lanczos3';
export type ResizeFit = 'fill' | 'cover' | 'contain';
/**
 * `exact`: every pixel of the image is decoded, then resized as TensorFlow does. `fast`: a large photo is first
 * shrunk while it is decoded (JPEG DCT scaling, WebP scaled decoding) and with an antialiased linear filter, to
 * about twice the model's input, then resized as TensorFlow does; small images are resized exactly either way.
 */
export type ResizeFidelity = 'exact' | 'fast';

export interface ResizeTarget {
  width: number;
  height: number;
  method: ResizeKernel;
  fit: ResizeFit;
  /** `exact` when absent. */
  fidelity?: ResizeFidelity;
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** How a `width × height` image becomes the model input: crop, resize, then place on the output canvas. */
export interface ResizePlan {
  /** The part of the image that is resized (the whole image unless `cover`). */
  crop: Box;
  /** Where the resized crop lands on the `target` canvas (smaller than it only for `contain`). */
  placed: Box;
}

const f32 = Math.fround;

/**
 * The geometry of the Keras/TensorFlow resizes the manifests name, so the model sees what it was trained on:
 * - `fill`: the whole image stretched to the target (`tf.image.resize`, Keras `image_dataset_from_directory`);
 * - `cover`: Keras `smart_resize` — the largest centred box with the target's aspect ratio, then resized;
 * - `contain`: `tf.image.resize_with_pad` — aspect kept, centred, padded with black (zeros).
 * Integer conversions truncate as Python's `int()` and TensorFlow's casts do; the arithmetic is float32.
 */
export function planResize(
  width: number,
  height: number,
  target: Pick<ResizeTarget, 'width' | 'height' | 'fit'>,
): ResizePlan {
  const whole: Box = { left: 0, top: 0, width, height };
  const canvas: Box = { left: 0, top: 0, width: target.width, height: target.height };
  switch (target.fit) {
    case 'fill':
      return { crop: whole, placed: canvas };
    case 'cover': {
      const cropHeight = Math.max(
        1,
        Math.min(height, Math.trunc(f32(f32(width * target.height) / target.width))),
      );
      const cropWidth = Math.max(
        1,
        Math.min(width, Math.trunc(f32(f32(height * target.width) / target.height))),
      );
      const crop = {
        left: Math.trunc(f32(width - cropWidth) / 2),
        top: Math.trunc(f32(height - cropHeight) / 2),
        width: cropWidth,
        height: cropHeight,
      };
      return { crop, placed: canvas };
    }
    case 'contain': {
      const ratio = Math.max(f32(width / target.width), f32(height / target.height));
      const resizedWidth = f32(width / ratio);
      const resizedHeight = f32(height / ratio);
      const placed = {
        left: Math.max(0, Math.floor(f32(target.width - resizedWidth) / 2)),
        top: Math.max(0, Math.floor(f32(target.height - resizedHeight) / 2)),
        width: Math.min(target.width, Math.max(1, Math.floor(resizedWidth))),
        height: Math.min(target.height, Math.max(1, Math.floor(resizedHeight))),
      };
      return { crop: whole, placed };
    }
  }
}
