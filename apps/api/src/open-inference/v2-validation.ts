import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { problem } from '@app/problem';

function messages(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = /^\d+$/.test(error.property)
      ? `${prefix}[${error.property}]`
      : prefix
        ? `${prefix}.${error.property}`
        : error.property;
    return [
      ...Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`),
      ...messages(error.children ?? [], path),
    ];
  });
}

/**
 * Validates V2 request bodies; unknown fields are ignored (clients send extension parameters), and a failure is
 * a 400 whose message names each field, e.g. `inputs[0].shape: each value in shape must be an integer number`.
 */
export const v2ValidationPipe = new ValidationPipe({
  transform: true,
  stopAtFirstError: true,
  exceptionFactory: (errors) =>
    problem('validation_failed', `The inference request is not valid: ${messages(errors).join('; ')}.`),
});
