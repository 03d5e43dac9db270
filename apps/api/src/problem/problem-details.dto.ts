import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'FieldError', description: 'One invalid request field and what is wrong with it.' })
export class FieldErrorDto {
  @ApiProperty({ example: 'top_k', description: 'The request field that is wrong.' })
  field!: string;

  @ApiProperty({ example: 'top_k must not be greater than 101' })
  message!: string;
}

/** An RFC 9457 problem, sent as `application/problem+json` with every 4xx and 5xx. */
@ApiSchema({
  name: 'Problem',
  description:
    'An RFC 9457 problem, sent as `application/problem+json` with every 4xx and 5xx; branch on `code`.',
})
export class ProblemDetailsDto {
  @ApiProperty({
    example: 'urn:food-vision:problem:url_forbidden_address',
    description: 'A URI that identifies the problem type; `urn:food-vision:problem:<code>`.',
  })
  type!: string;

  @ApiProperty({ example: 'The image URL points to a forbidden address' })
  title!: string;

  @ApiProperty({ example: 400, description: 'The HTTP status code.' })
  status!: number;

  @ApiProperty({
    example:
      'The image URL resolves to a private, loopback, link-local or otherwise reserved address, which this service does not fetch from: use a publicly reachable URL, or ask the operator to add the host to IMAGE_FETCH_ALLOW_HOSTS.',
    description: 'What went wrong in this request, and what to do about it.',
  })
  detail!: string;

  @ApiProperty({
    example: 'url_forbidden_address',
    description: 'Stable machine-readable code; branch on this, not on `title` or `detail`.',
  })
  code!: string;

  @ApiPropertyOptional({ example: '/v1/predictions', description: 'The request path.' })
  instance?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Each invalid field, for `validation_failed`.' })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({
    example: '4f1c2a9e-7d1b-4c55-9a53-0c2f3b8e6d10',
    description:
      "The id of this request, also in the `X-Request-Id` response header and the server logs; the caller's own `X-Request-Id` when it sent a valid one.",
  })
  request_id?: string;

  @ApiPropertyOptional({
    example: '4bf92f3577b34da6a3ce929d0e0e4736',
    description:
      'The OpenTelemetry trace id of this request, when the service traces (OTEL_EXPORTER_OTLP_ENDPOINT is set): the trace in the collector shows where the request failed. Also in the `traceparent` response header.',
  })
  trace_id?: string;
}
