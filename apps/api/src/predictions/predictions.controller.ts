import {
  Body,
  Controller,
  HttpCode,
  Post,
  Query,
  Req,
  UploadedFile,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { ImageSource } from '@app/image-fetch';
import { problem } from '@app/problem';
import { Predictor } from '../data-plane/predictor';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { CLASSIFICATION_PROBLEMS, URL_INTAKE_PROBLEMS } from '../problem/prediction-problems';
import { problemValidationPipe } from '../problem/validation';
import { ApiJsonOrMultipartBody } from './api-multipart-body.decorator';
import { PredictionRequestDto, PredictionUploadDto } from './dto/prediction-request.dto';
import { PredictionResponseDto } from './dto/prediction-response.dto';
import { ApiExplainQuery } from './api-explain-query.decorator';
import { parseExplainQuery } from './explain-query';
import { parseIncludes, PREDICTION_INCLUDES } from './model-input-image';
import { toPredictionResponseWithExtras } from './prediction.mapper';
import { abortSignalFor } from '../common/request-abort';
import { requestIdOf } from '../observability/request-id';
import { setModelVersion } from '../common/model-version-header';
import { clientRoutingKey, ROUTING_KEY_HEADER } from '../data-plane/rollout/routing-key';

@ApiTags('predictions')
@Controller('v1/predictions')
export class PredictionsController {
  constructor(private readonly predictor: Predictor) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('image'))
  @UsePipes(problemValidationPipe())
  @ApiOperation({
    summary: 'Classify a food photo',
    description:
      'Send the photo as JSON (`url` to download, or `image` in base64) or as multipart/form-data (file field `image`). Answers the top-k classes with probabilities that sum to 1 over all classes.',
  })
  @ApiJsonOrMultipartBody(PredictionRequestDto, PredictionUploadDto)
  @ApiQuery({
    name: 'include',
    required: false,
    enum: PREDICTION_INCLUDES,
    description:
      'Extras to return: `model_input` adds `model_input`, the resized image the model classified, as a base64 PNG (what the /demo page shows).',
  })
  @ApiExplainQuery()
  @ApiOkResponse({ type: PredictionResponseDto, description: 'The most likely classes.' })
  @ApiProblemResponses(
    'validation_failed',
    'json_too_deep',
    'missing_image',
    'ambiguous_image',
    'invalid_base64',
    'payload_too_large',
    'unsupported_media_type',
    'model_not_found',
    'model_version_not_found',
    ...URL_INTAKE_PROBLEMS,
    ...CLASSIFICATION_PROBLEMS,
  )
  async predict(
    @Req() request: Request,
    @Body() body: PredictionRequestDto,
    @Query('include') include?: unknown,
    @Query() query: Record<string, unknown> = {},
    @UploadedFile() file?: Express.Multer.File,
  ): Promise<PredictionResponseDto> {
    if (!request.is(['application/json', 'multipart/form-data'])) {
      throw problem(
        'unsupported_media_type',
        `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted: send application/json or multipart/form-data.`,
      );
    }
    const withModelInput = parseIncludes(include).has('model_input');
    const explain = parseExplainQuery(query);
    const prediction = await this.predictor.predict(this.sourceOf(body, file), {
      protocol: 'v1',
      topK: body.top_k,
      model: { name: body.model, version: body.model_version },
      signal: abortSignalFor(request),
      withModelInput,
      explain,
      requestId: requestIdOf(request),
      minConfidence: body.min_confidence,
      routingKey: clientRoutingKey(request.headers[ROUTING_KEY_HEADER]),
    });
    setModelVersion(request.res!, prediction.classification.model.version);
    return toPredictionResponseWithExtras(prediction, { modelInput: withModelInput });
  }

  private sourceOf(body: PredictionRequestDto, file?: Express.Multer.File): ImageSource {
    const sources: ImageSource[] = [];
    if (body.url !== undefined) sources.push({ kind: 'url', url: body.url });
    if (body.image !== undefined) sources.push({ kind: 'base64', base64: body.image });
    if (file) sources.push({ kind: 'bytes', bytes: file.buffer });
    if (sources.length === 0) {
      throw problem(
        'missing_image',
        'No image was sent: give `url` or `image` (base64) in JSON, or upload the file as multipart field `image`.',
      );
    }
    if (sources.length > 1) {
      throw problem(
        'ambiguous_image',
        'Send exactly one image: `url`, `image` (base64) or an uploaded file, not several.',
      );
    }
    return sources[0];
  }
}
