import { applyDecorators, HttpCode, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { ApiV2Errors } from './api-v2-errors.decorator';
import { BinaryTensorBodyInterceptor } from './binary-tensor-body';
import { V2ModelReadyDto } from './dto/v2-health.dto';
import { V2InferenceResponseDto } from './dto/v2-inference.dto';
import { V2ModelMetadataDto } from './dto/v2-metadata.dto';

// The protocol names every model route twice, `/v2/models/{name}/…` and `/v2/models/{name}/versions/{version}/…`.
// Each pair shares one decorator here, so the two routes cannot drift apart; `versioned` adds the version parameter.

const MODEL_PARAM = { name: 'name', example: 'food101-mobilenet-v1-int8', description: 'The model name.' };
const VERSION_PARAM = { name: 'version', example: '1', description: 'The model version.' };
const INFER_DESCRIPTION =
  'Send one input: `image`, BYTES, shape [N] (each element a base64-encoded JPEG, PNG, WebP, GIF or BMP file, decoded and resized like `POST /v1/predictions`), or `input`, FP32 (or UINT8), shape [N, height, width, 3], the model input as it is (already preprocessed; a uint8 model gets values rounded to integers in 0..255). N is at most MAX_BATCH_ITEMS. The output `probabilities` is FP32 [N, labels]; with `parameters: {"classification": K}` on it, BYTES [N, K] strings `"<probability>:<index>:<label>"` (classification extension). Tensors may also follow the JSON as bytes (binary tensor data extension: `Inference-Header-Content-Length`, `parameters.binary_data_size`; BYTES elements length-prefixed); answers are always JSON. Errors are `{"error": "..."}`.';

function modelParams(versioned: boolean) {
  return versioned ? [ApiParam(MODEL_PARAM), ApiParam(VERSION_PARAM)] : [ApiParam(MODEL_PARAM)];
}

export function ModelMetadataRoute(versioned: boolean) {
  return applyDecorators(
    ApiOperation({
      summary: versioned
        ? 'Model metadata of one version'
        : 'Model metadata: versions, platform, input and output tensors',
    }),
    ...modelParams(versioned),
    ApiOkResponse({ type: V2ModelMetadataDto }),
    ApiV2Errors(401, 404, 429, 503),
  );
}

export function ModelReadyRoute(versioned: boolean) {
  return applyDecorators(
    PublicEndpoint(),
    ApiOperation({
      summary: versioned
        ? 'Model ready, for one version'
        : 'Model ready: loaded and warm; 400 with the reason otherwise',
    }),
    ...modelParams(versioned),
    ApiOkResponse({ type: V2ModelReadyDto }),
    ApiV2Errors(400, 404),
  );
}

export function ModelInferRoute(versioned: boolean) {
  return applyDecorators(
    HttpCode(200),
    UseInterceptors(BinaryTensorBodyInterceptor),
    ApiOperation({
      summary: versioned
        ? 'Inference with one version'
        : 'Inference: classify images (BYTES) or model-input tensors (FP32)',
      description: INFER_DESCRIPTION,
    }),
    ...modelParams(versioned),
    ApiOkResponse({ type: V2InferenceResponseDto }),
    ApiV2Errors(400, 401, 404, 413, 415, 422, 429, 500, 503),
  );
}
