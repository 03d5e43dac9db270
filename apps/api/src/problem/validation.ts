import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { problem, ProblemError } from '@app/problem';

function fieldErrors(errors: ValidationError[], prefix = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    return [
      ...Object.values(error.constraints ?? {}).map((message) => ({ field, message })),
      ...fieldErrors(error.children ?? [], field),
    ];
  });
}

/**
 * class-validator DTO validation whose failures are `validation_failed` problems listing each field.
 * `status` is 400 on the v1 API; the seed route keeps FastAPI's 422.
 */
export function problemValidationPipe(status = 400): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const fields = fieldErrors(errors);
      const base = problem('validation_failed', fields.map((error) => error.message).join('; '), {
        errors: fields,
      });
      return new ProblemError(status, base.code, base.title, base.detail, base.extensions);
    },
  });
}
