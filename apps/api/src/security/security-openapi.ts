import { getSchemaPath, type OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_CODES, problemTypeUri, type ProblemCode } from '@app/problem';
import { ProblemDetailsDto } from '../problem/problem-details.dto';
import { PUBLIC_ENDPOINT_EXTENSION } from './public-endpoint.decorator';

const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export const API_KEY_SCHEME = 'api_key';
export const BEARER_SCHEME = 'bearer';

/**
 * Documents the optional protections: the two ways to send an API key, and on every operation that is not
 * @PublicEndpoint the key requirement (`{}` as an alternative: keys are off unless API_KEYS is set) and the
 * 401/429 problems.
 */
export function applySecurityDocs(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.securitySchemes = {
    ...document.components.securitySchemes,
    [API_KEY_SCHEME]: {
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
      description: 'One of the keys in API_KEYS. Only checked when the operator sets API_KEYS.',
    },
    [BEARER_SCHEME]: {
      type: 'http',
      scheme: 'bearer',
      description:
        'The same API key as `Authorization: Bearer <key>`. Only checked when the operator sets API_KEYS.',
    },
  };
  for (const pathItem of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = pathItem[method] as
        (Record<string, unknown> & { responses?: Record<string, unknown> }) | undefined;
      if (!operation) continue;
      const isPublic = operation[PUBLIC_ENDPOINT_EXTENSION] === true;
      delete operation[PUBLIC_ENDPOINT_EXTENSION];
      if (isPublic) {
        // Explicitly open (OpenAPI: an empty list overrides any requirement), which linters can tell from forgotten.
        operation.security = [];
        continue;
      }
      operation.security = [{ [API_KEY_SCHEME]: [] }, { [BEARER_SCHEME]: [] }, {}];
      operation.responses ??= {};
      operation.responses['401'] ??= problemResponse(
        'unauthorized',
        'Only when API_KEYS is set: the key is missing or wrong.',
        { 'WWW-Authenticate': { description: 'How to authenticate (Bearer).', schema: { type: 'string' } } },
      );
      operation.responses['429'] ??= problemResponse(
        'rate_limited',
        'Only when RATE_LIMIT_PER_MINUTE is set: this client sent too many requests.',
        { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } },
      );
    }
  }
  return sortResponses(document);
}

function problemResponse(
  code: ProblemCode,
  when: string,
  headers: Record<string, unknown>,
): Record<string, unknown> {
  const { status, title } = PROBLEM_CODES[code];
  return {
    description: `${when} Problem details; \`code\` is \`${code}\`.`,
    headers,
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: { $ref: getSchemaPath(ProblemDetailsDto) },
        example: { type: problemTypeUri(code), title, status, detail: title, code },
      },
    },
  };
}

/** Keeps each operation's responses in status order, so the committed document stays stable. */
function sortResponses(document: OpenAPIObject): OpenAPIObject {
  for (const pathItem of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (!operation?.responses) continue;
      operation.responses = Object.fromEntries(
        Object.entries(operation.responses).sort(([a], [b]) => a.localeCompare(b)),
      );
    }
  }
  return document;
}
