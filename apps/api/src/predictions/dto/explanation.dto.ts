import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ModelInputImageDto } from './model-input-image.dto';

@ApiSchema({ name: 'ExplainedClass', description: 'The class the explanation is about.' })
export class ExplainedClassDto {
  @ApiProperty({ example: 76, description: 'Its index in the model’s labels.' })
  index!: number;

  @ApiProperty({ example: 'pizza' })
  label!: string;

  @ApiProperty({ example: 0.93, description: 'Its probability for the whole, unmasked image.' })
  probability!: number;
}

@ApiSchema({
  name: 'OcclusionParameters',
  description:
    'Enough to reproduce any cell: mask that patch of `model_input` with the baseline and run the model.',
})
export class OcclusionParametersDto {
  @ApiProperty({ example: 32, description: 'Side of the square patch, in model-input pixels.' })
  patch_size!: number;

  @ApiProperty({ example: 16, description: 'Distance between two patch origins, in model-input pixels.' })
  stride!: number;

  @ApiProperty({
    example: 128,
    description:
      'The grey level (0–255 on all three channels) a patch is filled with, before the model’s scaling.',
  })
  baseline!: number;
}

@ApiSchema({
  name: 'OcclusionGrid',
  description:
    'Where each patch sits on `model_input`: cell [row][col] is the patch whose top-left corner is (x[col], y[row]); the origins are `stride` apart from 0, plus one flush with the far edge when the stride does not land there.',
})
export class OcclusionGridDto {
  @ApiProperty({ type: [Number], example: [0, 16, 32], description: 'Patch origins along the width.' })
  x!: number[];

  @ApiProperty({ type: [Number], example: [0, 16, 32], description: 'Patch origins along the height.' })
  y!: number[];
}

@ApiSchema({ name: 'ExplanationCost', description: 'What the explanation took.' })
export class ExplanationCostDto {
  @ApiProperty({ example: 169, description: 'Masked images run through the model.' })
  masked_images!: number;

  @ApiProperty({ example: 812.4, description: 'Milliseconds, from the first masked run to the last.' })
  ms!: number;
}

@ApiSchema({
  name: 'Explanation',
  description:
    'Where the model looked (`?explain=occlusion`): occlusion sensitivity on the exact pixels the model saw. Each score is the class probability for the whole image minus its probability with that patch masked: large where the patch mattered, near 0 where it did not, negative where hiding it made the class more likely.',
})
export class ExplanationDto {
  @ApiProperty({ enum: ['occlusion'], example: 'occlusion' })
  method!: 'occlusion';

  @ApiProperty({ type: ExplainedClassDto })
  class!: ExplainedClassDto;

  @ApiProperty({ type: OcclusionParametersDto })
  parameters!: OcclusionParametersDto;

  @ApiProperty({ type: OcclusionGridDto })
  grid!: OcclusionGridDto;

  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
    example: [
      [0.01, 0.12],
      [0.0, 0.43],
    ],
    description: 'scores[row][col], one per patch of `grid`.',
  })
  scores!: number[][];

  @ApiProperty({
    type: ModelInputImageDto,
    description:
      'A transparent PNG the size of `model_input`, to lay over it: each pixel is the mean score of the patches covering it, yellow to red and more opaque as the drop grows, up to `overlay_scale`; where masking did not lower the probability it is transparent.',
  })
  overlay!: ModelInputImageDto;

  @ApiProperty({
    example: 0.61,
    description: 'The score drawn fully red in the overlay (its largest pixel value).',
  })
  overlay_scale!: number;

  @ApiProperty({ type: ExplanationCostDto })
  cost!: ExplanationCostDto;
}
