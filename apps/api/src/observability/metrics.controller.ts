import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Registry } from 'prom-client';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { CONTENT_TYPES, exposition, preferredFormat } from './exposition';

@ApiTags('observability')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @PublicEndpoint()
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'HTTP, image fetch and inference latency histograms, failures by problem code, model info, process and Node.js metrics, in the Prometheus text format; in OpenMetrics when the Accept header prefers `application/openmetrics-text` (as Prometheus does), with the trace id of a request in each latency bucket as its exemplar when tracing is on. Open even when API keys are required.',
  })
  @ApiProduces('text/plain', 'application/openmetrics-text')
  @ApiOkResponse({
    description: 'The Prometheus text exposition format (version 0.0.4), or OpenMetrics 1.0.0.',
    content: {
      'text/plain': { schema: { type: 'string', example: 'food_vision_model_ready 1\n' } },
      'application/openmetrics-text': {
        schema: {
          type: 'string',
          example:
            'food_vision_inference_request_duration_seconds_bucket{le="0.05",protocol="v1"} 3 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 0.031 1765000000.123\n# EOF\n',
        },
      },
    },
  })
  async getMetrics(@Headers('accept') accept: string | undefined, @Res() response: Response): Promise<void> {
    const format = preferredFormat(accept);
    const body = await exposition(this.registry, format);
    response
      .status(200)
      .setHeader('Content-Type', CONTENT_TYPES[format])
      .setHeader('Cache-Control', 'no-store')
      .setHeader('Vary', 'Accept')
      .send(body);
  }
}
