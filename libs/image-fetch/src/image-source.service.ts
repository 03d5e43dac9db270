import { Inject, Injectable } from '@nestjs/common';
import { problem } from '@app/problem';
import { inSpan } from '@app/telemetry';
import { decodeBase64Image } from './base64-image';
import { IMAGE_FETCH_OPTIONS, type ImageFetchOptions } from './image-fetch.options';
import { UrlFetcher } from './url/url-fetcher';

export type ImageSource =
  { kind: 'url'; url: string } | { kind: 'base64'; base64: string } | { kind: 'bytes'; bytes: Buffer };

/** Gets the image bytes from whichever way the client sent them, under the same size limit. */
@Injectable()
export class ImageSourceService {
  constructor(
    private readonly fetcher: UrlFetcher,
    @Inject(IMAGE_FETCH_OPTIONS) private readonly options: ImageFetchOptions,
  ) {}

  bytes(source: ImageSource, signal?: AbortSignal): Promise<Buffer> {
    return inSpan(
      'image.fetch',
      { attributes: { 'food_vision.image.source': source.kind } },
      async (span) => {
        const bytes = await this.read(source, signal);
        span?.setAttribute('food_vision.image.bytes', bytes.length);
        return bytes;
      },
    );
  }

  private async read(source: ImageSource, signal?: AbortSignal): Promise<Buffer> {
    switch (source.kind) {
      case 'url':
        return (await this.fetcher.fetch(source.url, signal)).bytes;
      case 'base64':
        return decodeBase64Image(source.base64, this.options.maxBytes);
      case 'bytes':
        if (source.bytes.length === 0) throw problem('missing_image', 'The uploaded image file is empty.');
        if (source.bytes.length > this.options.maxBytes) {
          throw problem(
            'too_large',
            `The image is larger than ${this.options.maxBytes} bytes; send a smaller image.`,
            {
              limit_bytes: this.options.maxBytes,
            },
          );
        }
        return source.bytes;
    }
  }
}
