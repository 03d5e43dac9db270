import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MonitoringHistory } from '../data-plane/metrics/monitoring-history';
import { MonitoringOverviewDto } from './dto/monitoring-history.dto';

@ApiTags('models')
@Controller('v1/monitoring')
export class MonitoringController {
  constructor(private readonly history: MonitoringHistory) {}

  @Get()
  @ApiOperation({
    summary: 'What each served model answered in the last hour, against its reference',
    description:
      'Per model ready to serve: the drift status, the confidence distribution and the class mix of the last hour beside the reference profile’s, a time series in 10 s slots (predictions per second, abstention and low-confidence rates, drift scores) and the latest low-confidence answers (labels and scores, never images). Kept in memory: a restart starts it afresh. The /monitor page draws it.',
  })
  @ApiOkResponse({
    type: MonitoringOverviewDto,
    description: 'Every model ready to serve, with its last hour.',
  })
  getMonitoring(): MonitoringOverviewDto {
    return this.history.overview();
  }
}
