import { MonitoringDto } from './monitoring.dto';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'ModelRuntime', description: 'The engine and backend the model runs on.' })
export class RuntimeDto {
  @ApiProperty({
    example: 'litert',
    enum: ['litert', 'tfjs', 'onnxruntime'],
    description:
      'The inference engine: LiteRT (TFLite), TF.js, or onnxruntime (ONNX, and Keras .h5 compiled to ONNX).',
  })
  engine!: string;

  @ApiProperty({
    example: 'wasm-xnnpack',
    enum: ['wasm-xnnpack', 'tensorflow', 'wasm', 'cpu'],
    description:
      'Where it runs: LiteRT on WASM/XNNPACK, or TF.js on tfjs-node (`tensorflow`), WASM or pure JS (`cpu`).',
  })
  backend!: string;
}

@ApiSchema({ name: 'ResizeSpec', description: 'How images are resized to the model input.' })
export class ResizeDto {
  @ApiProperty({ example: 'bilinear', enum: ['bilinear', 'nearest', 'bicubic', 'lanczos3'] })
  method!: string;

  @ApiProperty({
    example: 'fill',
    enum: ['fill', 'cover', 'contain'],
    description: '`fill` stretches the whole image, `cover` centre-crops, `contain` pads.',
  })
  fit!: string;

  @ApiProperty({
    example: 'fast',
    enum: ['exact', 'fast'],
    description:
      '`exact` decodes every pixel; `fast` first shrinks a photo at least 4× the input to about 2× it while decoding (JPEG DCT scaling). Both then resize as `tf.image.resize` does.',
  })
  fidelity!: string;
}

@ApiSchema({ name: 'InputSpec', description: 'The tensor the model takes, and how pixels become it.' })
export class InputSpecDto {
  @ApiProperty({ example: 224 })
  height!: number;

  @ApiProperty({ example: 224 })
  width!: number;

  @ApiProperty({ example: 3 })
  channels!: number;

  @ApiProperty({ example: 'uint8', enum: ['uint8', 'float32'] })
  dtype!: string;

  @ApiProperty({ example: 'RGB', enum: ['RGB', 'BGR'] })
  channel_order!: string;

  @ApiProperty({
    example: [0, 255],
    type: [Number],
    description: 'Pixels 0..255 are mapped linearly onto this range.',
  })
  value_range!: number[];

  @ApiPropertyOptional({ type: [Number], example: [0.485, 0.456, 0.406] })
  mean?: number[];

  @ApiPropertyOptional({ type: [Number], example: [0.229, 0.224, 0.225] })
  std?: number[];

  @ApiProperty({ type: ResizeDto })
  resize!: ResizeDto;
}

@ApiSchema({ name: 'ModelLabel', description: 'One output class of the model.' })
export class LabelDto {
  @ApiProperty({ example: 76 })
  index!: number;

  @ApiProperty({ example: 'pizza' })
  label!: string;

  @ApiProperty({ example: 'pizza' })
  display_name!: string;
}

@ApiSchema({ name: 'ModelLicense', description: 'The licence of the model weights.' })
export class LicenseDto {
  @ApiProperty({ example: 'ST SLA0044' })
  name!: string;

  @ApiPropertyOptional({ example: 'https://www.st.com/SLA0044' })
  url?: string;

  @ApiProperty({ example: false, description: 'Whether the weights may be redistributed.' })
  redistributable!: boolean;
}

@ApiSchema({ name: 'CandidateVersion', description: 'A rollout’s candidate version and how it is tried.' })
export class CandidateVersionDto {
  @ApiProperty({ example: '2' })
  version!: string;

  @ApiProperty({ example: 'ready', enum: ['loading', 'ready', 'failed'] })
  status!: string;

  @ApiProperty({ example: 'canary', enum: ['canary', 'shadow'] })
  mode!: 'canary' | 'shadow';

  @ApiProperty({ example: 10, description: 'Percent of requests routed (canary) or mirrored (shadow).' })
  weight!: number;
}

@ApiSchema({ name: 'ModelSummary', description: 'A served model and its status.' })
export class ModelSummaryDto {
  @ApiProperty({ example: 'food101-mobilenet-v1-int8' })
  name!: string;

  @ApiProperty({ example: '1', description: 'The version served (or being loaded).' })
  version!: string;

  @ApiProperty({
    type: [String],
    example: ['1', '2'],
    description: 'Versions found for this model, oldest first; the latest is served.',
  })
  versions!: string[];

  @ApiPropertyOptional({
    example: 'tflite',
    enum: ['tflite', 'tfjs-layers', 'tfjs-graph', 'keras-h5', 'onnx'],
    description: 'Present once the manifest was read.',
  })
  format?: string;

  @ApiProperty({
    example: 'ready',
    enum: ['loading', 'ready', 'failed', 'unloaded'],
    description:
      '`unloaded`: known but not in memory (MODEL_STORE_MAX_LOADED); it loads on its first request.',
  })
  status!: string;

  @ApiPropertyOptional({ description: 'Why the model is not ready, when it failed.' })
  reason?: string;

  @ApiProperty({ example: true, description: 'Whether requests without a model name use this model.' })
  default!: boolean;

  @ApiPropertyOptional({
    type: () => CandidateVersionDto,
    description: 'During a rollout: the version under trial (GET /v1/models/{name}/rollout for the report).',
  })
  candidate?: CandidateVersionDto;
}

@ApiSchema({ name: 'ModelList', description: 'The models this service serves.' })
export class ModelListDto {
  @ApiProperty({ type: [ModelSummaryDto] })
  models!: ModelSummaryDto[];
}

@ApiSchema({
  name: 'ModelMetadata',
  description: 'Everything about one model: runtime, input spec, labels, checksum, licence.',
})
export class ModelMetadataDto extends ModelSummaryDto {
  @ApiPropertyOptional({ example: 'Food-101 classifier (MobileNetV1 0.5, int8)' })
  description?: string;

  @ApiPropertyOptional({ type: RuntimeDto, description: 'Present once the model is loaded.' })
  runtime?: RuntimeDto;

  @ApiPropertyOptional({ type: InputSpecDto, description: 'Present once the manifest was read.' })
  input?: InputSpecDto;

  @ApiPropertyOptional({ example: 'probabilities', enum: ['probabilities', 'logits'] })
  output_kind?: string;

  @ApiPropertyOptional({ example: 101 })
  label_count?: number;

  @ApiPropertyOptional({ type: [LabelDto], description: 'Present once the model is loaded.' })
  labels?: LabelDto[];

  @ApiPropertyOptional({
    example: '6d16197710fa62c8f7a288a742db9fc4296306468982a2d6eea1aa4c286073cd',
    description: 'sha256 of the model file being served.',
  })
  sha256?: string;

  @ApiPropertyOptional({ type: LicenseDto, description: 'Present once the manifest was read.' })
  license?: LicenseDto;

  @ApiPropertyOptional({ example: 'https://example.com/models/food101.tflite' })
  source_url?: string;

  @ApiPropertyOptional({ example: '2026-11-27T10:00:00.000Z', format: 'date-time' })
  loaded_at?: string;

  @ApiPropertyOptional({
    type: MonitoringDto,
    description: 'Present once the model is loaded: how its recent answers compare with its reference.',
  })
  monitoring?: MonitoringDto;

  @ApiPropertyOptional({ example: 850, description: 'Time to verify and load the model, ms.' })
  load_ms?: number;

  @ApiPropertyOptional({ example: 30, description: 'Time of the warm-up inference, ms.' })
  warmup_ms?: number;
}
