import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { EXPLAIN_METHODS } from '../data-plane/explainer';
import { EXPLAIN_QUERY } from './explain-query';

/** The `explain*` query parameters in the OpenAPI document. */
export function ApiExplainQuery(): MethodDecorator {
  return applyDecorators(
    ...Object.entries(EXPLAIN_QUERY).map(([name, description]) =>
      ApiQuery({
        name,
        required: false,
        description,
        ...(name === 'explain'
          ? { enum: EXPLAIN_METHODS }
          : name === 'explain_class'
            ? { type: String }
            : { type: Number }),
      }),
    ),
  );
}
