import type { DraftOptions, Detected } from './draft-types';
import { findScalingEvidence } from './preprocessing-evidence';

const VALUE_RANGE_HELP =
  'pass --value-range=-1,1 (MobileNet/EfficientNet-style preprocess_input, pixel/127.5 - 1), --value-range=0,1 (pixel/255) or --value-range=0,255 (raw pixels), as the model was trained';

/**
 * The input range from evidence only: uint8 input, a Rescaling/Normalization layer inside the model, a
 * training config beside it, or the person's --value-range. Without any, it refuses: a wrong range still
 * gives tidy, wrong probabilities, so it is never guessed.
 */
export async function chooseValueRange(
  dir: string,
  names: string[],
  detected: Detected,
  dtype: 'uint8' | 'float32',
  options: DraftOptions,
  check: string[],
): Promise<[number, number]> {
  if (options.valueRange) {
    check.push(`input.value_range [${options.valueRange.join(', ')}]: as given with --value-range.`);
    return options.valueRange;
  }
  if (dtype === 'uint8') return [0, 255];
  if (detected.rescalesItself) {
    check.push(
      'input.value_range [0, 255]: the model has a Rescaling/Normalization layer, so it takes raw pixels; confirm it.',
    );
    return [0, 255];
  }
  const evidence = await findScalingEvidence(dir, names);
  if (evidence) {
    check.push(`input.value_range [${evidence.valueRange.join(', ')}]: from ${evidence.source}.`);
    return evidence.valueRange;
  }
  throw new Error(
    `cannot tell the input scaling of ${detected.entry}: it takes float input, has no Rescaling layer, and no training config beside it says how pixels were scaled; ${VALUE_RANGE_HELP}.`,
  );
}
