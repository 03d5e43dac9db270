import { Controller, Get, HttpCode, Post, Query, Req, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ConfigService } from '@nestjs/config';
import type { Request } from 'express';
import { abortSignalFor } from '../common/request-abort';
import type { EnvironmentVariables } from '../config/environment';
import { Predictor } from '../data-plane/predictor';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { CLASSIFICATION_PROBLEMS, URL_INTAKE_PROBLEMS } from '../problem/prediction-problems';
import { problemValidationPipe } from '../problem/validation';
import { requestIdOf } from '../observability/request-id';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { SeedPredictionQueryDto, SeedPredictionResponseDto, WelcomeDto } from './seed-prediction.dto';
import { setModelVersion } from '../common/model-version-header';
import { clientRoutingKey, ROUTING_KEY_HEADER } from '../data-plane/rollout/routing-key';

/** What the seed route answers, in its own shape, when SEED_ABSTAIN withholds an answer. */
export const SEED_ABSTAINED_LABEL = 'unknown';

/** The original FastAPI service's routes, kept byte-compatible for existing clients. */
@ApiTags('seed-compatible')
@Controller()
export class SeedController {
  private readonly abstains: boolean;

  constructor(
    private readonly predictor: Predictor,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    this.abstains = config.get('SEED_ABSTAIN', { infer: true });
  }

  @Get()
  @PublicEndpoint()
  @ApiOperation({ summary: 'Welcome message', description: 'Unchanged from the original service.' })
  @ApiOkResponse({ type: WelcomeDto })
  getWelcome(): WelcomeDto {
    return { message: 'Welcome to the Food Vision API!' };
  }

  @Post('net/image/prediction')
  @HttpCode(200)
  @UsePipes(problemValidationPipe(422))
  @ApiOperation({
    summary: 'Classify the photo at a URL (original API)',
    description:
      "The original route and field names. The trailing slash is optional. Validation errors keep FastAPI's 422 status. Prefer `POST /v1/predictions` for new clients.",
  })
  @ApiOkResponse({ type: SeedPredictionResponseDto })
  @ApiProblemResponses(
    { code: 'validation_failed', status: 422 },
    ...URL_INTAKE_PROBLEMS,
    ...CLASSIFICATION_PROBLEMS,
  )
  async predictFromImageLink(
    @Req() request: Request,
    @Query() query: SeedPredictionQueryDto,
  ): Promise<SeedPredictionResponseDto> {
    const { classification, abstention } = await this.predictor.predict(
      { kind: 'url', url: query.image_link },
      {
        protocol: 'seed',
        topK: 1,
        signal: abortSignalFor(request),
        requestId: requestIdOf(request),
        // The seed's clients know no abstention: only SEED_ABSTAIN lets its answer be withheld.
        minConfidence: this.abstains ? undefined : null,
        routingKey: clientRoutingKey(request.headers[ROUTING_KEY_HEADER]),
      },
    );
    setModelVersion(request.res!, classification.model.version);
    const best = classification.predictions[0];
    return {
      'model-prediction': abstention ? SEED_ABSTAINED_LABEL : best.displayName,
      'model-prediction-confidence-score': best.confidence,
    };
  }
}
