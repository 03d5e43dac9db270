import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtension, ApiExtraModels, getSchemaPath } from '@nestjs/swagger';

export const MULTIPART_SCHEMA_EXTENSION = 'x-multipart-schema';

/**
 * A request body that is JSON (`jsonType`) or multipart/form-data (`multipartType`). @nestjs/swagger gives every
 * content type one schema, so the multipart schema is named in an extension that `finalizeDocument` applies.
 */
export function ApiJsonOrMultipartBody(jsonType: Type, multipartType: Type): MethodDecorator {
  return applyDecorators(
    ApiConsumes('application/json', 'multipart/form-data'),
    ApiExtraModels(multipartType),
    ApiBody({ type: jsonType, required: true }),
    // The schema name, which @ApiSchema may set apart from the class name.
    ApiExtension(MULTIPART_SCHEMA_EXTENSION, getSchemaPath(multipartType).split('/').pop()),
  );
}
