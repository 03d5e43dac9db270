import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { ImageSource } from '@app/image-fetch';
import { invalidField, problem, ProblemError } from '@app/problem';
import type { EnvironmentVariables } from '../config/environment';
import type { ExplainRequest } from '../data-plane/explainer';
import { Predictor } from '../data-plane/predictor';
import { problemBody } from '../problem/problem-response';
import {
  BatchPredictionItemDto,
  type BatchItemResult,
  type BatchPredictionRequestDto,
  type BatchPredictionResponseDto,
} from './batch-prediction.dto';
import { toPredictionResponseWithExtras } from './prediction.mapper';

/** Runs each item of a batch through the single-photo pipeline, in order, one problem per bad item. */
@Injectable()
export class BatchPredictionService {
  private readonly logger = new Logger(BatchPredictionService.name);

  constructor(
    private readonly predictor: Predictor,
    private readonly config: ConfigService<EnvironmentVariables, true>,
  ) {}

  async predictBatch(
    body: BatchPredictionRequestDto,
    instance: string,
    {
      signal,
      explain,
      requestId,
      routingKey,
    }: { signal?: AbortSignal; explain?: ExplainRequest; requestId?: string; routingKey?: string } = {},
  ): Promise<BatchPredictionResponseDto> {
    const maxItems = this.config.get('MAX_BATCH_ITEMS', { infer: true });
    const maxExplained = this.config.get('EXPLAIN_MAX_BATCH_ITEMS', { infer: true });
    if (explain && body.items.length > maxExplained) {
      const message = `explain runs hundreds of masked images per photo, so a batch with explain carries at most ${maxExplained} items (EXPLAIN_MAX_BATCH_ITEMS); this one has ${body.items.length}: explain fewer photos at a time.`;
      throw invalidField('explain', message);
    }
    if (body.items.length > maxItems) {
      throw problem(
        'validation_failed',
        `A batch carries at most ${maxItems} items and this one has ${body.items.length}: split it into smaller batches.`,
        { errors: [{ field: 'items', message: `items must contain no more than ${maxItems} elements` }] },
      );
    }
    // Whole-batch refusals come first: an unknown model (404), no model (503), or a top_k no item could satisfy (400).
    const settled = await this.predictor.predictEach(
      body.items.map((item, index) => () => itemSource(item, index)),
      {
        protocol: 'v1',
        topK: body.top_k,
        model: { name: body.model, version: body.model_version },
        signal,
        explain,
        requestId,
        routingKey,
        minConfidence: body.min_confidence,
      },
    );
    const results = await Promise.all(
      settled.map(async (result, index): Promise<BatchItemResult> => {
        if (result.status === 'fulfilled')
          return {
            status: 200,
            prediction: await toPredictionResponseWithExtras(result.value, { modelInput: false }),
          };
        const error = this.asProblem(result.reason);
        return { status: error.status, problem: problemBody(error, `${instance}#/items/${index}`) };
      }),
    );
    return { results };
  }

  private asProblem(reason: unknown): ProblemError {
    if (reason instanceof ProblemError) return reason;
    this.logger.error(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
    return problem('internal_error', 'The server failed to classify this item; it has been logged.');
  }
}

/** The item as an image source, or the problem that says what is wrong with it. */
function itemSource(raw: Record<string, unknown>, index: number): ImageSource {
  const item = plainToInstance(BatchPredictionItemDto, raw);
  const errors = validateSync(item, {
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
  }).flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) => ({
      field: `items[${index}].${error.property}`,
      message,
    })),
  );
  if (errors.length > 0) {
    throw problem('validation_failed', errors.map((error) => error.message).join('; '), { errors });
  }
  if (item.url !== undefined && item.image !== undefined) {
    throw problem('ambiguous_image', `Item ${index} has both \`url\` and \`image\`: give exactly one.`);
  }
  if (item.url !== undefined) return { kind: 'url', url: item.url };
  if (item.image !== undefined) return { kind: 'base64', base64: item.image };
  throw problem('missing_image', `Item ${index} has no image: give \`url\` or \`image\` (base64).`);
}
