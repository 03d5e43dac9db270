import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { loadPageAssets, sendPageAsset, type PageAssetName } from '../common/page-assets';

/**
 * The monitoring page: static files, open like /demo; its data comes from GET /v1/monitoring, which the API key
 * guards (the page asks for a key when the API needs one). Its Content-Security-Policy is set with the other
 * security headers (security/security-headers.ts).
 */
@ApiTags('monitoring')
@PublicEndpoint()
@Controller('monitor')
export class MonitorController {
  // The page's files sit beside this module in the sources, and `nest build` copies them there (nest-cli.json).
  private readonly assets = loadPageAssets(join(__dirname, 'assets'), 'monitor');

  @Get()
  @ApiOperation({
    summary: 'Watch the served models in a browser',
    description:
      'A page (no third-party resources) that draws GET /v1/monitoring every few seconds: per model, predictions per second, the confidence distribution and the class mix against the reference, the drift scores with their thresholds, the abstention and low-confidence rates, and the latest low-confidence answers.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The HTML page.', schema: { type: 'string' } })
  monitorPage(@Res() response: Response): void {
    this.send(response, 'page');
  }

  @Get('monitor.js')
  @ApiExcludeEndpoint()
  script(@Res() response: Response): void {
    this.send(response, 'script');
  }

  @Get('monitor.css')
  @ApiExcludeEndpoint()
  style(@Res() response: Response): void {
    this.send(response, 'style');
  }

  private send(response: Response, name: PageAssetName): void {
    sendPageAsset(response, this.assets[name]);
  }
}
