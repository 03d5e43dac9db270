import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { DriftMonitor } from '../data-plane/metrics/drift-monitor';
import { ServingState } from '../data-plane/serving-state';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { ModelListDto, ModelMetadataDto } from './dto/model-metadata.dto';
import { toModelMetadata, toModelSummary } from './model-metadata.mapper';

const NAME_PARAM = { name: 'name', example: 'food101-mobilenet-v1-int8', description: 'The model name.' };

@ApiTags('models')
@Controller('v1/models')
export class ModelsController {
  constructor(
    private readonly serving: ServingState,
    private readonly drift: DriftMonitor,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List the models this service serves, with their versions and status' })
  @ApiOkResponse({ type: ModelListDto })
  listModels(): ModelListDto {
    return { models: this.serving.list().map(toModelSummary) };
  }

  @Get(':name')
  @ApiOperation({
    summary: 'Describe one model: runtime, input spec, labels, checksum, license, and drift',
  })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ModelMetadataDto })
  @ApiProblemResponses('model_not_found')
  getModel(@Param('name') name: string): ModelMetadataDto {
    const served = this.serving.model(name);
    const metadata = toModelMetadata(served);
    if (served.state.status === 'ready')
      metadata.monitoring = this.drift.status(name, served.state.manifest.version);
    return metadata;
  }

  @Post(':name/reload')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Load the newest files of a model and swap them in without dropping a request',
    description:
      'Loads the latest version folder of a model store (or re-reads the manifest), warms it, swaps it in and then releases the previous version once its in-flight requests are done. If the new files cannot be served, the previous version keeps serving and the answer is a `model_reload_failed` problem. An admin operation: guarded by the API keys when they are on.',
  })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ModelMetadataDto, description: 'The model now served.' })
  @ApiProblemResponses('model_not_found', 'model_reload_failed')
  async reloadModel(@Param('name') name: string): Promise<ModelMetadataDto> {
    return toModelMetadata(await this.serving.reload(name));
  }
}
