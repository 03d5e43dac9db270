import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/** A photo given in JSON: exactly one of `url` and `image` (checked by the route, which knows about uploads). */
export class ImageReferenceDto {
  @ApiPropertyOptional({
    description: 'An http(s) URL of the photo; the service downloads it (private addresses are refused).',
    example: 'https://example.com/photos/pizza.jpg',
    maxLength: 2048,
  })
  // class-validator checks the lowest decorator first; with stopAtFirstError, the type is reported before lengths.
  @IsOptional()
  @MinLength(1)
  @MaxLength(2048)
  @IsString()
  url?: string;

  @ApiPropertyOptional({
    description:
      'The photo file (JPEG, PNG, WebP, GIF or BMP) in standard base64; a `data:image/...;base64,` prefix is accepted.',
    example: '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD',
    format: 'byte',
  })
  @IsOptional()
  @IsString()
  image?: string;
}
