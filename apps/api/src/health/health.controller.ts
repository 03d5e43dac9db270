import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { problem } from '@app/problem';
import { modelReasons, ServingState, type ServerReadiness } from '../data-plane/serving-state';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { HealthStatusDto } from './health-status.dto';

type Checks = HealthStatusDto['details'];

/** Each check of a readiness answer by name: `lifecycle` (draining) and `model` (loaded and warm). */
function checksOf(readiness: ServerReadiness): Checks {
  if (readiness.ready) {
    const [first] = readiness.models;
    return {
      lifecycle: { status: 'up' },
      model: { status: 'up', ...first, ...(readiness.models.length > 1 ? { models: readiness.models } : {}) },
    };
  }
  const modelsReady = Object.keys(readiness.models).length === 0;
  return {
    lifecycle:
      readiness.code === 'shutting_down' ? { status: 'down', reason: readiness.reason } : { status: 'up' },
    model: modelsReady
      ? { status: 'up' }
      : {
          status: 'down',
          reason: modelReasons(readiness.models),
          models: readiness.models,
        },
  };
}

/** Kubernetes/Heroku probes. Liveness never depends on the model; readiness is the data plane's one rule. */
@ApiTags('health')
@PublicEndpoint()
@Controller('health')
export class HealthController {
  constructor(private readonly serving: ServingState) {}

  @Get('live')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({ summary: 'Liveness: the process answers HTTP (never depends on the model)' })
  @ApiOkResponse({ type: HealthStatusDto })
  getLiveness(): HealthStatusDto {
    return { status: 'ok', details: {} };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({ summary: 'Readiness: the model is loaded and warmed up; 503 with the reason otherwise' })
  @ApiOkResponse({ type: HealthStatusDto })
  @ApiProblemResponses('model_not_ready', 'shutting_down')
  getReadiness(): HealthStatusDto {
    const readiness = this.serving.readiness();
    const checks = checksOf(readiness);
    if (readiness.ready) return { status: 'ok', details: checks };
    if (readiness.code === 'shutting_down') throw problem('shutting_down', readiness.reason, { checks });
    throw problem('model_not_ready', readiness.reason || 'The service is not ready.', {
      retry_after_seconds: 5,
      checks,
    });
  }
}
