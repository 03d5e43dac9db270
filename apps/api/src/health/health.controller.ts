import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { problem } from '@app/problem';
import { ShutdownIndicator } from '../lifecycle/shutdown.indicator';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { HealthStatusDto } from './health-status.dto';
import { ModelReadinessIndicator } from './model-readiness.indicator';

/** Kubernetes/Heroku probes. Liveness never depends on the model; readiness means loaded and warm. */
@ApiTags('health')
@PublicEndpoint()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly model: ModelReadinessIndicator,
    private readonly lifecycle: ShutdownIndicator,
  ) {}

  @Get('live')
  @HealthCheck({ swaggerDocumentation: false, noCache: true })
  @ApiOperation({ summary: 'Liveness: the process answers HTTP (never depends on the model)' })
  @ApiOkResponse({ type: HealthStatusDto })
  async getLiveness(): Promise<HealthStatusDto> {
    const result = await this.health.check([]);
    return { status: result.status, details: result.details };
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false, noCache: true })
  @ApiOperation({ summary: 'Readiness: the model is loaded and warmed up; 503 with the reason otherwise' })
  @ApiOkResponse({ type: HealthStatusDto })
  @ApiProblemResponses('model_not_ready', 'shutting_down')
  async getReadiness(): Promise<HealthStatusDto> {
    try {
      const result = await this.health.check([() => this.lifecycle.check(), () => this.model.check()]);
      return { status: result.status, details: result.details };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const { details } = error.getResponse() as {
        details?: Record<string, { status?: string; reason?: string }>;
      };
      if (details?.lifecycle?.status === 'down') {
        throw problem('shutting_down', details.lifecycle.reason ?? 'The service is shutting down.', {
          checks: details,
        });
      }
      throw problem('model_not_ready', details?.model?.reason ?? 'The service is not ready.', {
        retry_after_seconds: 5,
        checks: details,
      });
    }
  }
}
