import type { ResizePlan } from './resize-plan';

/**
 * How much larger than the model input a `fast` pre-shrink leaves the image: about what the Food-101 photos
 * (at most 512 px) were next to 224 when the models were trained, so the exact resize that follows samples
 * a photo at about the density it did in training.
 */
export const PRE_SHRINK_HEADROOM = 2;

/**
 * The factor by which a `fast` decode shrinks the whole image before the exact resize, or 1 for none: only
 * when the image is at least twice `PRE_SHRINK_HEADROOM` times the model input on both axes, where JPEG DCT
 * scaling (1/2, 1/4, 1/8) can take over most of the work.
 */
export function preShrinkFactor(plan: ResizePlan): number {
  const factor =
    Math.min(plan.crop.width / plan.placed.width, plan.crop.height / plan.placed.height) /
    PRE_SHRINK_HEADROOM;
  return factor >= 2 ? factor : 1;
}
