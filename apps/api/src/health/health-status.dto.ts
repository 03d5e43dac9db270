import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'HealthStatus', description: 'The result of a health probe.' })
export class HealthStatusDto {
  @ApiProperty({ example: 'ok', enum: ['ok'] })
  status!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: true },
    example: {
      model: { status: 'up', name: 'food101-mobilenet-v1-int8', engine: 'litert', backend: 'wasm-xnnpack' },
    },
    description: 'Each check that ran, by name (none for liveness).',
  })
  details!: Record<string, Record<string, unknown>>;
}
