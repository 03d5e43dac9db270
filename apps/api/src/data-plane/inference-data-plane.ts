import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ImageSource } from '@app/image-fetch';
import { ClassifierService, type ClassifierLease, type Classification, type RgbImage } from '@app/inference';
import { problem, ProblemError } from '@app/problem';
import { inSpan } from '@app/telemetry';
import { mapLimited } from '../common/map-limited';
import { describeRequest } from './request-span';
import type { EnvironmentVariables } from '../config/environment';
import { BATCH_CONCURRENCY } from '../common/batch-concurrency';
import type {
  InferenceInput,
  InferenceOutput,
  InferenceRequest,
  InferenceResponse,
  RequestedOutput as RequestedOutputSpec,
} from './inference-request';
import { ABSTAINED_OUTPUT, IMAGE_INPUT, PROBABILITIES_OUTPUT, TENSOR_INPUT } from './served-model';
import { tensorLabel } from './tensor-label';
import { imageElements, modelInputs } from './tensor-data';
import { Explainer, type ExplainRequest, type Explanation } from './explainer';
import { EXPLANATION_OUTPUT, explainRequestOf, toExplanationOutput } from './explanation-output';
import { ImageSourceClassifier } from './image-source-classifier';
import { PredictionMetrics } from './metrics/prediction-metrics';
import { minConfidenceFor } from './abstention';
import { PredictionObserver } from './prediction-observer';
import type { Protocol } from './protocol';

const invalid = (detail: string) => problem('validation_failed', detail);

/** Which model a request runs on, the front-end it came through, and its cancellation. */
export interface InferTarget {
  protocol: Protocol;
  name: string;
  version?: string;
  signal: AbortSignal;
  requestId?: string;
  /** The client's canary routing key (X-Routing-Key, or gRPC metadata); else the first input's contents. */
  routingKey?: string;
}

interface RequestedOutput {
  name: string;
  /** Classification extension: the top N classes as strings instead of the probabilities. */
  classification?: number;
  /** Explanation extension: the occlusion map of each image. */
  explain?: ExplainRequest;
  /** The `abstained` output: whether each image's answer is withheld. */
  abstained?: boolean;
}

/** A row's classification, whether it abstained, and the pixels the model saw when an explanation needs them. */
type Row = Classification & { modelInput?: RgbImage; abstained: boolean };

/** How one request's images are classified. */
interface RowOptions {
  protocol: Protocol;
  signal: AbortSignal;
  requestId?: string;
  minConfidence?: number;
  keepModelInput: boolean;
}

/**
 * The Open Inference Protocol data plane, shared by the REST and gRPC front-ends: model resolution, validation,
 * the admission queue and the classification extension. Runs one request: one input (`image` BYTES or `input`
 * FP32/UINT8), a row per image.
 */
@Injectable()
export class InferenceDataPlane {
  constructor(
    private readonly images: ImageSourceClassifier,
    private readonly classifier: ClassifierService,
    private readonly config: ConfigService<EnvironmentVariables, true>,
    private readonly metrics: PredictionMetrics,
    private readonly explainer: Explainer,
    private readonly observer: PredictionObserver,
  ) {}

  infer(request: InferenceRequest, target: InferTarget): Promise<InferenceResponse> {
    const images = Math.max(0, request.inputs[0]?.shape[0] ?? 0);
    return this.metrics.trackRequest(target.protocol, images, () => this.inferWith(request, target));
  }

  private async inferWith(
    request: InferenceRequest,
    { protocol, name, version, signal, requestId, routingKey }: InferTarget,
  ): Promise<InferenceResponse> {
    // The model is resolved once (404 unknown, 503 not ready) and held until every row is computed.
    const lease = await this.classifier.leaseLoaded(
      { name, version },
      () => routingKey ?? contentKey(request),
    );
    try {
      const { labels } = lease;
      const minConfidence = minConfidenceFor(lease, request.parameters?.min_confidence);
      const outputs = requestedOutputs(request.outputs, labels.length, minConfidence !== undefined);
      if (request.inputs.length !== 1) {
        throw invalid(
          `Send exactly one input, "${IMAGE_INPUT}" (BYTES) or "${TENSOR_INPUT}" (FP32); this request has ${request.inputs.length}.`,
        );
      }
      // The classification extension's classes are the classifier's own top-k, ranked once.
      const topK = Math.max(0, ...outputs.map((output) => output.classification ?? 0));
      const explain = outputs.find((output) => output.explain)?.explain;
      const input = request.inputs[0];
      if (explain) this.checkExplainable(input, lease);
      describeRequest(lease, protocol, input.shape[0] ?? 0);
      const rows = await this.classify(input, lease, topK, {
        protocol,
        signal,
        requestId,
        minConfidence,
        keepModelInput: explain !== undefined,
      });
      const explanations: Explanation[] = [];
      // One image at a time: each explanation already fills the background lane's workers.
      for (const row of explain ? rows : [])
        explanations.push(
          await this.explainer.explain(lease, row.modelInput!, row.probabilities, explain!, signal),
        );
      return {
        model_name: lease.model.name,
        model_version: lease.model.version,
        ...(request.id !== undefined ? { id: request.id } : {}),
        ...(minConfidence !== undefined ? { parameters: { min_confidence: minConfidence } } : {}),
        outputs: outputs.map((output) =>
          output.explain
            ? toExplanationOutput(output.name, explanations)
            : output.abstained
              ? {
                  name: output.name,
                  shape: [rows.length],
                  datatype: 'BOOL',
                  data: rows.map((row) => row.abstained),
                }
              : toOutput(output, rows, labels.length),
        ),
      };
    } finally {
      lease.release();
    }
  }

  /** An explanation needs image files (it masks the pixels the model saw), and a few images at most. */
  private checkExplainable(input: InferenceInput, lease: ClassifierLease): void {
    if (input.name !== IMAGE_INPUT) {
      throw invalid(
        `The "${EXPLANATION_OUTPUT}" output needs image files in input "${IMAGE_INPUT}": a "${TENSOR_INPUT}" tensor is already scaled for ${lease.model.name}, with no pixels to mask.`,
      );
    }
    const limit = this.config.get('EXPLAIN_MAX_BATCH_ITEMS', { infer: true });
    if ((input.shape[0] ?? 0) > limit) {
      throw invalid(
        `The "${EXPLANATION_OUTPUT}" output runs hundreds of masked images per image, so at most ${limit} images (EXPLAIN_MAX_BATCH_ITEMS) may be explained in one request; this one has ${input.shape[0]}.`,
      );
    }
  }

  /** One classification per image: its probability row, in label order, and its top `topK` classes. */
  private async classify(
    input: InferenceInput,
    lease: ClassifierLease,
    topK: number,
    { protocol, signal, requestId, minConfidence, keepModelInput }: RowOptions,
  ): Promise<Row[]> {
    const maxItems = this.config.get('MAX_BATCH_ITEMS', { infer: true });
    const count = input.shape[0] ?? 0;
    if (count < 1 || count > maxItems) {
      throw invalid(
        `Input "${tensorLabel(input.name)}" must hold 1 to ${maxItems} images (its first dimension); it holds ${count}.`,
      );
    }
    const tensor = tensorLabel(input.name);
    let tasks: ImageTask[];
    if (input.name === IMAGE_INPUT) {
      if (input.datatype !== 'BYTES')
        throw invalid(`Input "${IMAGE_INPUT}" is BYTES, not ${tensorLabel(input.datatype)}.`);
      if (input.shape.length > 2 || (input.shape.length === 2 && input.shape[1] !== 1)) {
        throw invalid(
          `Input "${IMAGE_INPUT}" must have shape [N] or [N, 1]; it has [${input.shape.join(', ')}].`,
        );
      }
      tasks = imageElements(input.data, input.shape, tensor).map((element) => async (taskSignal) => {
        const source: ImageSource =
          typeof element === 'string'
            ? { kind: 'base64', base64: element }
            : { kind: 'bytes', bytes: element };
        const classified = await this.images.classify(lease, source, topK, {
          protocol,
          signal: taskSignal,
          keepModelInput,
          requestId,
          minConfidence,
        });
        return { ...classified.classification, abstained: classified.abstention !== undefined };
      });
    } else if (input.name === TENSOR_INPUT) {
      if (input.datatype !== 'FP32' && input.datatype !== 'UINT8') {
        throw invalid(`Input "${TENSOR_INPUT}" is FP32 (or UINT8), not ${tensorLabel(input.datatype)}.`);
      }
      tasks = modelInputs(input.data, input.shape, input.datatype, lease.inputSpec, tensor).map(
        (modelInput) => (taskSignal) =>
          this.metrics
            .trackInference(protocol, () => lease.classifyTensor(modelInput, topK, taskSignal))
            .then((classification) => {
              const abstention = this.observer.observe({
                protocol,
                requestId,
                classification,
                labels: lease.labels,
                facts: { origin: 'tensor', format: 'tensor', size: 'tensor' },
                timings: {
                  fetchMs: 0,
                  decodeMs: 0,
                  queueMs: classification.queueMs,
                  inferenceMs: classification.inferenceMs,
                },
                minConfidence,
              });
              return { ...classification, abstained: abstention !== undefined };
            }),
      );
    } else {
      throw invalid(
        `This model has no input "${tensor}": send "${IMAGE_INPUT}" (BYTES, base64 image files) or "${TENSOR_INPUT}" (FP32, NHWC).`,
      );
    }
    return runAll(tasks, signal, tensor);
  }
}

/**
 * What to return, each at most once, with valid classification counts: by default the probabilities, and whether
 * each image abstained when a min_confidence is in force.
 */
function requestedOutputs(
  outputs: RequestedOutputSpec[] | undefined,
  labelCount: number,
  abstains: boolean,
): RequestedOutput[] {
  if (outputs === undefined || outputs.length === 0) {
    return [
      { name: PROBABILITIES_OUTPUT },
      ...(abstains ? [{ name: ABSTAINED_OUTPUT, abstained: true }] : []),
    ];
  }
  const seen = new Set<string>();
  return outputs.map(({ name, parameters }) => {
    if (name !== PROBABILITIES_OUTPUT && name !== EXPLANATION_OUTPUT && name !== ABSTAINED_OUTPUT) {
      throw invalid(
        `This model has no output "${tensorLabel(name)}"; its output is "${PROBABILITIES_OUTPUT}" (and the "${EXPLANATION_OUTPUT}" and "${ABSTAINED_OUTPUT}" extensions).`,
      );
    }
    if (seen.has(name)) throw invalid(`Output "${name}" is requested twice.`);
    seen.add(name);
    if (name === EXPLANATION_OUTPUT) return { name, explain: explainRequestOf(parameters) };
    if (name === ABSTAINED_OUTPUT) return { name, abstained: true };
    const classification = parameters?.classification;
    if (classification !== undefined && classification > labelCount) {
      throw invalid(`The classification count must be between 1 and ${labelCount}, the number of labels.`);
    }
    return { name, ...(classification !== undefined ? { classification } : {}) };
  });
}

type ImageTask = (signal: AbortSignal) => Promise<Row>;

/** The canary routing key of a request without one: a hash of its first input's contents. */
function contentKey(request: InferenceRequest): string {
  const data = request.inputs[0]?.data;
  const hash = createHash('sha256');
  if (data?.form === 'raw') hash.update(data.bytes);
  else {
    const first: unknown = data?.values[0];
    if (first instanceof Uint8Array) hash.update(first);
    else hash.update(JSON.stringify(data?.values ?? []));
  }
  return hash.digest('hex');
}

/**
 * Runs the per-image tasks a few at a time. An inference request fails as a whole: the first failure stops the
 * others and is reported with the element it came from.
 */
async function runAll(tasks: ImageTask[], signal: AbortSignal, tensor: string): Promise<Row[]> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let firstFailure: { index: number; error: unknown } | undefined;
  try {
    const settled = await mapLimited(tasks, BATCH_CONCURRENCY, async (task, index) => {
      try {
        if (stop.signal.aborted)
          throw new Error('Not run: the request was cancelled or another element failed.');
        return await inSpan('classify.item', { attributes: { 'food_vision.batch.index': index } }, () =>
          task(stop.signal),
        );
      } catch (error) {
        firstFailure ??= { index, error };
        stop.abort();
        throw error;
      }
    });
    if (firstFailure) {
      const { index, error } = firstFailure;
      if (!(error instanceof ProblemError)) throw error;
      throw new ProblemError(
        error.status,
        error.code,
        error.title,
        `Input "${tensor}" element ${index}: ${error.detail}`,
        error.extensions,
      );
    }
    return settled.map((result) => (result as PromiseFulfilledResult<Row>).value);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * An output over every image: the probabilities as one FP32 block (rows in label order), or Triton's classification
 * extension, `"<value>:<index>:<label>"` highest first with ties to the lower index, as the classifier ranked them.
 */
function toOutput(
  output: RequestedOutput,
  rows: readonly Classification[],
  labelCount: number,
): InferenceOutput {
  if (output.classification === undefined) {
    const data = new Float32Array(rows.length * labelCount);
    rows.forEach((row, index) => data.set(row.probabilities, index * labelCount));
    return { name: output.name, shape: [rows.length, labelCount], datatype: 'FP32', data };
  }
  const count = output.classification;
  // The value is the FP32 probability, as in the probabilities output.
  const data = rows.flatMap((row) =>
    row.predictions
      .slice(0, count)
      .map(({ index, label, confidence }) => `${Math.fround(confidence)}:${index}:${label}`),
  );
  return { name: output.name, shape: [rows.length, count], datatype: 'BYTES', data };
}
