import { Body, Controller, Get, Param, Post, Req, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { API_VERSION } from '../common/api-version';
import { abortSignalFor } from '../common/request-abort';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { ApiV2Errors } from './api-v2-errors.decorator';
import { ModelInferRoute, ModelMetadataRoute, ModelReadyRoute } from './model-routes.decorator';
import { V2ModelReadyDto, V2ServerLiveDto, V2ServerReadyDto } from './dto/v2-health.dto';
import { V2InferenceRequestDto, V2InferenceResponseDto } from './dto/v2-inference.dto';
import { V2ModelMetadataDto, V2ServerMetadataDto } from './dto/v2-metadata.dto';
import { InferenceDataPlane } from '../data-plane/inference-data-plane';
import { ServingState } from '../data-plane/serving-state';
import { binaryTensors } from './binary-tensor-body';
import { V2ErrorFilter } from './v2-error.filter';
import { toInferenceRequest, toV2Response } from './v2-messages';
import { notReady } from './v2-errors';
import { v2ValidationPipe } from './v2-validation';
import { requestIdOf } from '../observability/request-id';
import { setModelVersion } from '../common/model-version-header';
import { clientRoutingKey, ROUTING_KEY_HEADER } from '../data-plane/rollout/routing-key';

/**
 * The Open Inference Protocol (KServe V2) REST API beside the native one, so KServe, Triton clients and Seldon
 * tooling can use the service. Errors are the protocol's `{"error": "..."}`, not problem+json.
 */
@ApiTags('open-inference-protocol')
@UseFilters(V2ErrorFilter)
@Controller('v2')
export class OpenInferenceController {
  constructor(
    private readonly serving: ServingState,
    private readonly inference: InferenceDataPlane,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Server metadata: name, version and protocol extensions' })
  @ApiOkResponse({ type: V2ServerMetadataDto })
  @ApiV2Errors(401, 429)
  serverMetadata(): V2ServerMetadataDto {
    return {
      name: 'food-vision-api',
      version: API_VERSION,
      extensions: ['classification', 'binary_tensor_data'],
    };
  }

  @Get('health/live')
  @PublicEndpoint()
  @ApiOperation({ summary: 'Server live: the process answers (never depends on the model)' })
  @ApiOkResponse({ type: V2ServerLiveDto })
  serverLive(): V2ServerLiveDto {
    return { live: true };
  }

  @Get('health/ready')
  @PublicEndpoint()
  @ApiOperation({
    summary:
      'Server ready: every model is loaded and warm; 400 with the reason otherwise (the protocol: 4xx is "no")',
  })
  @ApiOkResponse({ type: V2ServerReadyDto })
  @ApiV2Errors(400)
  serverReady(): V2ServerReadyDto {
    const readiness = this.serving.readiness();
    if (!readiness.ready) throw notReady(readiness.reason);
    return { ready: true };
  }

  @Get('models/:name')
  @ModelMetadataRoute(false)
  modelMetadata(@Param('name') name: string): V2ModelMetadataDto {
    return this.serving.metadata(name);
  }

  @Get('models/:name/versions/:version')
  @ModelMetadataRoute(true)
  modelVersionMetadata(@Param('name') name: string, @Param('version') version: string): V2ModelMetadataDto {
    return this.serving.metadata(name, version);
  }

  @Get('models/:name/ready')
  @ModelReadyRoute(false)
  modelReady(@Param('name') name: string): V2ModelReadyDto {
    return this.readiness(name);
  }

  @Get('models/:name/versions/:version/ready')
  @ModelReadyRoute(true)
  modelVersionReady(@Param('name') name: string, @Param('version') version: string): V2ModelReadyDto {
    return this.readiness(name, version);
  }

  @Post('models/:name/infer')
  @ModelInferRoute(false)
  modelInfer(
    @Req() request: Request,
    @Param('name') name: string,
    @Body(v2ValidationPipe) body: V2InferenceRequestDto,
  ): Promise<V2InferenceResponseDto> {
    return this.infer(request, body, name);
  }

  @Post('models/:name/versions/:version/infer')
  @ModelInferRoute(true)
  modelVersionInfer(
    @Req() request: Request,
    @Param('name') name: string,
    @Param('version') version: string,
    @Body(v2ValidationPipe) body: V2InferenceRequestDto,
  ): Promise<V2InferenceResponseDto> {
    return this.infer(request, body, name, version);
  }

  private async infer(
    request: Request,
    body: V2InferenceRequestDto,
    name: string,
    version?: string,
  ): Promise<V2InferenceResponseDto> {
    const response = await this.inference.infer(toInferenceRequest(body, binaryTensors(request)), {
      protocol: 'v2',
      name,
      ...(version !== undefined ? { version } : {}),
      signal: abortSignalFor(request),
      requestId: requestIdOf(request),
      routingKey: clientRoutingKey(request.headers[ROUTING_KEY_HEADER]),
    });
    setModelVersion(request.res!, response.model_version);
    return toV2Response(response);
  }

  private readiness(name: string, version?: string): V2ModelReadyDto {
    const model = this.serving.modelReadiness(name, version);
    if (!model.ready) throw notReady(model.reason ?? `Model ${model.name} is not ready.`);
    return { name: model.name, ready: true };
  }
}
