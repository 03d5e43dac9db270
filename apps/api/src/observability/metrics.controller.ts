import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { PublicEndpoint } from '../security/public-endpoint.decorator';

@ApiTags('observability')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @PublicEndpoint()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'HTTP, image fetch and inference latency histograms, failures by problem code, model info, process and Node.js metrics, in the Prometheus text format. Open even when API keys are required.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'The Prometheus text exposition format (version 0.0.4).',
    content: { 'text/plain': { schema: { type: 'string', example: 'food_vision_model_ready 1\n' } } },
  })
  getMetrics(): Promise<string> {
    return this.registry.metrics();
  }
}
