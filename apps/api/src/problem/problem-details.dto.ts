import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'top_k', description: 'The request field that is wrong.' })
  field!: string;

  @ApiProperty({ example: 'top_k must not be greater than 101' })
  message!: string;
}

/** An RFC 9457 problem, sent as `application/problem+json` with every 4xx and 5xx. */
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
}
