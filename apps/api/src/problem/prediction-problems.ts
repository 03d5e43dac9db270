import type { ProblemCode } from '@app/problem';

/** What fetching a photo from a client's URL can fail with. */
export const URL_INTAKE_PROBLEMS = [
  'invalid_url',
  'url_scheme_not_allowed',
  'url_credentials_not_allowed',
  'url_port_not_allowed',
  'url_forbidden_address',
  'url_unresolvable',
  'upstream_not_image',
  'upstream_status',
  'upstream_unreachable',
  'too_many_redirects',
  'upstream_timeout',
] as const satisfies readonly ProblemCode[];

/** What decoding and classifying any photo can fail with, wherever it came from. */
export const CLASSIFICATION_PROBLEMS = [
  'too_large',
  'image_too_many_pixels',
  'unsupported_image',
  'model_not_ready',
  'overloaded',
  'inference_timeout',
  'inference_worker_failed',
  'internal_error',
] as const satisfies readonly ProblemCode[];
