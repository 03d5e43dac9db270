import { Body, Controller, HttpCode, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { problem } from '@app/problem';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { problemValidationPipe } from '../problem/validation';
import {
  BatchItemFailureDto,
  BatchItemSuccessDto,
  BatchPredictionRequestDto,
  BatchPredictionResponseDto,
} from './batch-prediction.dto';
import { ApiExplainQuery } from './api-explain-query.decorator';
import { BatchPredictionService } from './batch-prediction.service';
import { parseExplainQuery } from './explain-query';
import { abortSignalFor } from '../common/request-abort';
import { requestIdOf } from '../observability/request-id';
import { setModelVersion } from '../common/model-version-header';
import { clientRoutingKey, ROUTING_KEY_HEADER } from '../data-plane/rollout/routing-key';

const validateBody = problemValidationPipe();

@ApiTags('predictions')
@ApiExtraModels(BatchItemSuccessDto, BatchItemFailureDto)
@Controller('v1/predictions/batch')
export class BatchPredictionsController {
  constructor(private readonly batches: BatchPredictionService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Classify several photos in one request',
    description:
      'Each item is a photo as `url` or `image` (base64), like `POST /v1/predictions`. Answers 200 with one result per item, in order: a prediction, or the problem that item alone would have caused, so one bad photo does not fail the others. At most MAX_BATCH_ITEMS items (16 by default), and EXPLAIN_MAX_BATCH_ITEMS (2) with `explain`; the whole body is limited like a single request.',
  })
  @ApiBody({ type: BatchPredictionRequestDto, required: true })
  @ApiExplainQuery()
  @ApiOkResponse({ type: BatchPredictionResponseDto, description: 'One result per item, in order.' })
  @ApiProblemResponses(
    'validation_failed',
    'json_too_deep',
    'payload_too_large',
    'unsupported_media_type',
    'model_not_found',
    'model_version_not_found',
    'model_not_ready',
    'internal_error',
  )
  async predictBatch(
    @Req() request: Request,
    @Body() raw: unknown,
    @Query() query: Record<string, unknown> = {},
  ): Promise<BatchPredictionResponseDto> {
    // Checked before validating, which would otherwise answer a multipart body with "items must be an array".
    if (!request.is('application/json')) {
      throw problem(
        'unsupported_media_type',
        `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted: send the batch as application/json.`,
      );
    }
    const body = (await validateBody.transform(raw, {
      type: 'body',
      metatype: BatchPredictionRequestDto,
    })) as BatchPredictionRequestDto;
    const answer = await this.batches.predictBatch(body, request.originalUrl.split('?')[0], {
      signal: abortSignalFor(request),
      explain: parseExplainQuery(query),
      requestId: requestIdOf(request),
      routingKey: clientRoutingKey(request.headers[ROUTING_KEY_HEADER]),
    });
    const answered = answer.results.find((result) => 'prediction' in result);
    setModelVersion(
      request.res!,
      answered && 'prediction' in answered ? answered.prediction.model.version : undefined,
    );
    return answer;
  }
}
