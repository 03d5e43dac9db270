import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PublicEndpoint } from '../security/public-endpoint.decorator';
import { loadPageAssets, sendPageAsset, type PageAssetName } from '../common/page-assets';

/**
 * The try-it page: static files, open like /docs (the page asks for an API key when the API needs one).
 * Its Content-Security-Policy is set with the other security headers (security/security-headers.ts).
 */
@ApiTags('demo')
@PublicEndpoint()
@Controller('demo')
export class DemoController {
  // The page's files sit beside this module in the sources, and `nest build` copies them there (nest-cli.json).
  private readonly assets = loadPageAssets(join(__dirname, 'assets'), 'demo');

  @Get()
  @ApiOperation({
    summary: 'Try the classifier in a browser',
    description:
      'A small page (no third-party resources) to classify a photo from a file, the camera, the clipboard or a URL, showing the top classes as bars, the resized input the model saw, and the timings.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The HTML page.', schema: { type: 'string' } })
  demoPage(@Res() response: Response): void {
    this.send(response, 'page');
  }

  @Get('demo.js')
  @ApiExcludeEndpoint()
  script(@Res() response: Response): void {
    this.send(response, 'script');
  }

  @Get('demo.css')
  @ApiExcludeEndpoint()
  style(@Res() response: Response): void {
    this.send(response, 'style');
  }

  private send(response: Response, name: PageAssetName): void {
    sendPageAsset(response, this.assets[name]);
  }
}
