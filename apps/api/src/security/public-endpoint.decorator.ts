import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';

export const PUBLIC_ENDPOINT = 'food-vision:public-endpoint';
/** Marks the operation in the generated OpenAPI document; security-openapi.ts reads and removes it. */
export const PUBLIC_ENDPOINT_EXTENSION = 'x-food-vision-public';

/** Open even when API keys or rate limits are configured: probes, metrics and the welcome route. */
export function PublicEndpoint(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    SetMetadata(PUBLIC_ENDPOINT, true),
    SkipThrottle(),
    ApiExtension(PUBLIC_ENDPOINT_EXTENSION, true),
  );
}
