import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'V2ServerMetadata', description: 'The server and the protocol extensions it supports.' })
export class V2ServerMetadataDto {
  @ApiProperty({ example: 'food-vision-api' })
  name!: string;

  @ApiProperty({ example: '1.0.0' })
  version!: string;

  @ApiProperty({
    type: [String],
    example: ['classification', 'binary_tensor_data'],
    description:
      "Triton's `classification` (top-k labels as BYTES) and `binary_tensor_data` (tensor bytes after the JSON, requests only; answers are JSON).",
  })
  extensions!: string[];
}

@ApiSchema({
  name: 'V2TensorMetadata',
  description: 'One input or output tensor; -1 is a variable dimension.',
})
export class V2TensorMetadataDto {
  @ApiProperty({ example: 'input' })
  name!: string;

  @ApiProperty({ example: 'FP32', enum: ['BYTES', 'UINT8', 'FP32'] })
  datatype!: string;

  @ApiProperty({ type: [Number], example: [-1, 224, 224, 3] })
  shape!: number[];
}

@ApiSchema({ name: 'V2ModelMetadata', description: 'A model as the Open Inference Protocol describes it.' })
export class V2ModelMetadataDto {
  @ApiProperty({ example: 'food101-mobilenet-v1-int8' })
  name!: string;

  @ApiProperty({ type: [String], example: ['1'] })
  versions!: string[];

  @ApiProperty({
    example: 'tensorflow_tflite',
    enum: ['tensorflow_tflite', 'tensorflowjs_layers', 'tensorflowjs_graph', 'keras_h5', 'onnx_onnxv1'],
    description: 'The model format as `<project>_<format>` (informational).',
  })
  platform!: string;

  @ApiProperty({
    type: [V2TensorMetadataDto],
    description:
      'Send exactly one: `image` (BYTES, each element a base64-encoded JPEG/PNG/WebP/GIF/BMP file) or `input` (the model input tensor, NHWC).',
  })
  inputs!: V2TensorMetadataDto[];

  @ApiProperty({
    type: [V2TensorMetadataDto],
    description: '`probabilities`: one row per image, one column per label.',
  })
  outputs!: V2TensorMetadataDto[];
}
