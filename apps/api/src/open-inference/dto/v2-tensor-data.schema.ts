import {
  getSchemaPath,
  type ApiPropertyOptions,
  type OpenAPIObject,
  type SchemaObject,
} from '@nestjs/swagger';

export const TENSOR_DATA_SCHEMA = 'V2TensorData';

const TENSOR_DATA_ITEMS: SchemaObject = {
  anyOf: [
    { $ref: getSchemaPath(TENSOR_DATA_SCHEMA) },
    { type: 'number' },
    { type: 'string' },
    { type: 'boolean' },
  ],
};

/** A `data` property: tensor contents, row-major, flat (`[1, 2, 3, 4]`) or nested by dimension (`[[1, 2], [3, 4]]`). */
export function tensorDataProperty(description: string): ApiPropertyOptions {
  return { type: 'array', items: TENSOR_DATA_ITEMS, description };
}

/** A `parameters` property: scalar values by name, as the protocol defines them. */
export function parametersProperty(description: string): ApiPropertyOptions {
  return {
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    description,
  };
}

/** Adds the recursive tensor-data schema the V2 DTOs refer to (@nestjs/swagger only names schemas of classes). */
export function applyV2Schemas(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    [TENSOR_DATA_SCHEMA]: {
      type: 'array',
      items: TENSOR_DATA_ITEMS,
      description:
        'Tensor contents, row-major, flat or nested by dimension (Open Inference Protocol `tensor_data`).',
    },
  };
  return document;
}
