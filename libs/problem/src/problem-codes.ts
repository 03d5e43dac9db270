/** Every machine-readable `code` a problem body can carry, with the status and title it is sent with. */
export const PROBLEM_CODES = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_base64: { status: 400, title: 'The image is not valid base64' },
  missing_image: { status: 400, title: 'No image was sent' },
  ambiguous_image: { status: 400, title: 'More than one image was sent' },
  invalid_url: { status: 400, title: 'The image URL is not valid' },
  url_scheme_not_allowed: { status: 400, title: 'The image URL scheme is not allowed' },
  url_credentials_not_allowed: { status: 400, title: 'The image URL contains credentials' },
  url_port_not_allowed: { status: 400, title: 'The image URL port is not allowed' },
  url_forbidden_address: { status: 400, title: 'The image URL points to a forbidden address' },
  url_unresolvable: { status: 400, title: 'The image URL host does not resolve' },
  not_found: { status: 404, title: 'Not found' },
  model_not_found: { status: 404, title: 'No such model' },
  too_large: { status: 413, title: 'The image is too large' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  image_too_many_pixels: { status: 413, title: 'The image has too many pixels' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unsupported_image: { status: 422, title: 'The data is not a supported image' },
  upstream_not_image: { status: 422, title: 'The image URL did not return an image' },
  upstream_status: { status: 502, title: 'The image URL answered with an error' },
  upstream_unreachable: { status: 502, title: 'The image URL could not be reached' },
  too_many_redirects: { status: 502, title: 'The image URL redirected too many times' },
  upstream_timeout: { status: 504, title: 'The image URL did not answer in time' },
  model_not_ready: { status: 503, title: 'The model is not ready' },
  internal_error: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_CODES;
