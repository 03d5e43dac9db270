import { PROBLEM_CODES, type ProblemCode } from './problem-codes';
import { ProblemError } from './problem-error';

/** Builds the `ProblemError` for a known code; `detail` says what happened and what to do about it. */
export function problem(
  code: ProblemCode,
  detail: string,
  extensions: Record<string, unknown> = {},
  cause?: unknown,
): ProblemError {
  const { status, title } = PROBLEM_CODES[code];
  return new ProblemError(
    status,
    code,
    title,
    detail,
    extensions,
    cause === undefined ? undefined : { cause },
  );
}

/** A 400 `validation_failed` about one field, named in `errors` as DTO validation names them. */
export function invalidField(field: string, message: string): ProblemError {
  return problem('validation_failed', message, { errors: [{ field, message }] });
}

export function problemTypeUri(code: string): string {
  return `urn:food-vision:problem:${code}`;
}
