import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'V2ServerLive', description: 'The server answers (KServe ServerLiveResponse).' })
export class V2ServerLiveDto {
  @ApiProperty({ enum: [true], example: true })
  live!: true;
}

@ApiSchema({ name: 'V2ServerReady', description: 'Every model is ready (KServe ServerReadyResponse).' })
export class V2ServerReadyDto {
  @ApiProperty({ enum: [true], example: true })
  ready!: true;
}

@ApiSchema({ name: 'V2ModelReady', description: 'The model is loaded and warm (KServe ModelReadyResponse).' })
export class V2ModelReadyDto {
  @ApiProperty({ example: 'food101-mobilenet-v1-int8' })
  name!: string;

  @ApiProperty({ enum: [true], example: true })
  ready!: true;
}

@ApiSchema({
  name: 'V2Error',
  description:
    'Every Open Inference Protocol error: `{"error": "..."}` as `application/json`, per the protocol.',
})
export class V2ErrorDto {
  @ApiProperty({
    example:
      'Model "pizza-net" is not served here; GET /v2/models/food101-mobilenet-v1-int8 describes the one that is.',
    description: 'What went wrong, and what to do about it.',
  })
  error!: string;
}
