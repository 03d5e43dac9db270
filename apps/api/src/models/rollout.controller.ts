import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RolloutControl } from '../data-plane/rollout/rollout-control';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { RolloutPolicyDto, RolloutReportDto } from './dto/rollout.dto';

const NAME_PARAM = { name: 'name', example: 'food101', description: 'The model name.' };

/** Version roles: a candidate beside the stable version, canary or shadow, promoted or rolled back. */
@ApiTags('models')
@Controller('v1/models')
export class RolloutController {
  constructor(private readonly rollouts: RolloutControl) {}

  @Get(':name/rollout')
  @ApiOperation({
    summary: 'The model’s rollout report: policy, versions, agreement, error and abstention rates',
    description:
      'Per traffic (canary answers checked by the stable version; shadow copies classified by the candidate): top-1 agreement, mean |Δ top-1 probability|, the most frequent disagreements; per version: runs, errors, abstentions; the comparison runs shed; the last rollback.',
  })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: RolloutReportDto })
  @ApiProblemResponses('model_not_found')
  getRollout(@Param('name') name: string): RolloutReportDto {
    return this.rollouts.report(name);
  }

  @Put(':name/rollout')
  @ApiOperation({
    summary: 'Start, change or end a rollout (a candidate version, canary or shadow)',
    description:
      'Loads and warms the candidate first; if it cannot be served, nothing changes (`rollout_refused`) and the stable version serves alone as before. Written to the model’s `rollout.json`. Without `candidate`, ends the rollout. An admin operation: guarded by the API keys when they are on.',
  })
  @ApiParam(NAME_PARAM)
  @ApiBody({
    type: RolloutPolicyDto,
    examples: {
      shadow: { value: { candidate: '2', mode: 'shadow', weight: 100 } },
      canary: {
        value: {
          candidate: '2',
          mode: 'canary',
          weight: 10,
          auto_rollback: { min_compared: 200, min_agreement: 0.9, max_error_increase: 0.01 },
        },
      },
    },
  })
  @ApiOkResponse({ type: RolloutReportDto })
  @ApiProblemResponses('validation_failed', 'model_not_found', 'rollout_refused', 'rollout_not_possible')
  setRollout(@Param('name') name: string, @Body() body: Record<string, unknown>): Promise<RolloutReportDto> {
    return this.rollouts.set(name, body ?? {});
  }

  @Post(':name/promote')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Make the candidate the stable version',
    description:
      'The candidate’s warm workers take over at once; the old stable version is released once its requests are done. Promotion is always explicit.',
  })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: RolloutReportDto })
  @ApiProblemResponses('model_not_found', 'rollout_not_possible')
  promoteCandidate(@Param('name') name: string): Promise<RolloutReportDto> {
    return this.rollouts.promote(name);
  }

  @Post(':name/rollback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'End the candidate (stable serves alone), or undo the last promotion',
    description:
      'With a candidate: ends it. Without one, right after a promotion: restores the previous stable version (loaded and warmed, then swapped in).',
  })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: RolloutReportDto })
  @ApiProblemResponses('model_not_found', 'rollout_not_possible', 'model_reload_failed')
  rollBack(@Param('name') name: string): Promise<RolloutReportDto> {
    return this.rollouts.rollback(name);
  }
}
