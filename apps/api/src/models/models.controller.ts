import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ModelLoader, type ModelManifest, type ModelState } from '@app/inference';
import { problem } from '@app/problem';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { ModelListDto, ModelMetadataDto } from './dto/model-metadata.dto';
import { toModelMetadata, toModelSummary } from './model-metadata.mapper';

@ApiTags('models')
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelLoader) {}

  @Get()
  @ApiOperation({ summary: 'List the models this service serves, with their status' })
  @ApiOkResponse({ type: ModelListDto })
  listModels(): ModelListDto {
    const state = this.models.modelState;
    return { models: hasManifest(state) ? [toModelSummary(state)] : [] };
  }

  @Get(':name')
  @ApiOperation({ summary: 'Describe one model: runtime, input spec, labels, checksum, license' })
  @ApiParam({ name: 'name', example: 'food101-mobilenet-v1-int8' })
  @ApiOkResponse({ type: ModelMetadataDto })
  @ApiProblemResponses('model_not_found')
  getModel(@Param('name') name: string): ModelMetadataDto {
    const state = this.models.modelState;
    if (!hasManifest(state) || state.manifest.name !== name) {
      throw problem('model_not_found', `There is no model named "${name}"; GET /v1/models lists them.`);
    }
    return toModelMetadata(state);
  }
}

function hasManifest(state: ModelState): state is ModelState & { manifest: ModelManifest } {
  return state.manifest !== undefined;
}
