import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { V2ErrorDto } from './dto/v2-health.dto';

const WHEN: Record<number, string> = {
  400: 'The request is not valid, or (health) the answer is "no".',
  401: 'Only when API_KEYS is set: the key is missing or wrong.',
  404: 'No such model or version.',
  413: 'The request body is too large.',
  415: 'The request body is not UTF-8 JSON.',
  422: 'An image could not be decoded.',
  429: 'Only when RATE_LIMIT_PER_MINUTE is set: this client sent too many requests.',
  500: 'The server failed; it has been logged.',
  503: 'The model is not ready, or the server is overloaded; see Retry-After.',
};

/** Documents the protocol's error answers: `{"error": "..."}` as application/json, for each status. */
export function ApiV2Errors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(V2ErrorDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: `${WHEN[status]} The protocol's error object.`,
        content: { 'application/json': { schema: { $ref: getSchemaPath(V2ErrorDto) } } },
      }),
    ),
  );
}
