import { Controller, Get, HttpCode, Post, Query, Req, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { abortSignalFor } from '../common/request-abort';
import { Predictor } from '../data-plane/predictor';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { CLASSIFICATION_PROBLEMS, URL_INTAKE_PROBLEMS } from '../problem/prediction-problems';
import { problemValidationPipe } from '../problem/validation';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { SeedPredictionQueryDto, SeedPredictionResponseDto, WelcomeDto } from './seed-prediction.dto';

/** The original FastAPI service's routes, kept byte-compatible for existing clients. */
@ApiTags('seed-compatible')
@Controller()
export class SeedController {
  constructor(private readonly predictor: Predictor) {}

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
    const { classification } = await this.predictor.predict(
      { kind: 'url', url: query.image_link },
      { protocol: 'seed', topK: 1, signal: abortSignalFor(request) },
    );
    const best = classification.predictions[0];
    return { 'model-prediction': best.displayName, 'model-prediction-confidence-score': best.confidence };
  }
}
