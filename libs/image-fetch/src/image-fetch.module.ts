import { Module } from '@nestjs/common';
import { ConfigurableImageFetchModule } from './image-fetch.options';
import { ImageSourceService } from './image-source.service';
import { HOST_RESOLVER, systemResolver } from './url/host-resolver';
import { nodeRequestOpener, REQUEST_OPENER } from './url/request-opener';
import { UrlFetcher } from './url/url-fetcher';

/** Image intake: bytes from a URL (SSRF-safe), an upload or base64. Decoding and resizing are @app/imaging's. */
@Module({
  providers: [
    { provide: HOST_RESOLVER, useValue: systemResolver },
    { provide: REQUEST_OPENER, useValue: nodeRequestOpener },
    UrlFetcher,
    ImageSourceService,
  ],
  exports: [UrlFetcher, ImageSourceService],
})
export class ImageFetchModule extends ConfigurableImageFetchModule {}
