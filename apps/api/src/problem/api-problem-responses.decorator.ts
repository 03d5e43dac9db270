import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CODES, type ProblemCode } from '@app/problem';
import { PROBLEM_CONTENT_TYPE } from './problem-response';
import { ProblemDetailsDto } from './problem-details.dto';

/** A code sent with its usual status, or with another one (the seed route's 422 validation errors). */
export type ProblemRef = ProblemCode | { code: ProblemCode; status: number };

/** Documents the problem responses an operation can send, grouped by status, each listing its codes. */
export function ApiProblemResponses(...refs: ProblemRef[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const ref of refs) {
    const code = typeof ref === 'string' ? ref : ref.code;
    const status = typeof ref === 'string' ? PROBLEM_CODES[code].status : ref.status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...[...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, statusCodes]) =>
        ApiResponse({
          status,
          description: `Problem details; \`code\` is one of: ${statusCodes.map((code) => `\`${code}\``).join(', ')}.`,
          content: {
            [PROBLEM_CONTENT_TYPE]: {
              schema: { $ref: getSchemaPath(ProblemDetailsDto) },
              example: {
                type: `urn:food-vision:problem:${statusCodes[0]}`,
                title: PROBLEM_CODES[statusCodes[0]].title,
                status,
                detail: PROBLEM_CODES[statusCodes[0]].title,
                code: statusCodes[0],
              },
            },
          },
        }),
      ),
  );
}
