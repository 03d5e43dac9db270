import { ApiProperty, ApiSchema, IntersectionType } from '@nestjs/swagger';
import { ClassificationOptionsDto } from './classification-options.dto';
import { ImageReferenceDto } from './image-reference.dto';

/** JSON body of `POST /v1/predictions`: exactly one of `url` and `image`. */
@ApiSchema({
  name: 'PredictionRequest',
  description: 'A photo to classify, as JSON: exactly one of `url` and `image`.',
})
export class PredictionRequestDto extends IntersectionType(ImageReferenceDto, ClassificationOptionsDto) {}

class ImageFileDto {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description: 'The photo file (JPEG, PNG, WebP, GIF or BMP).',
  })
  image!: string;
}

/** Multipart body of `POST /v1/predictions`: the photo as file field `image` (documentation; multer reads it). */
@ApiSchema({
  name: 'PredictionUpload',
  description: 'A photo to classify, as multipart/form-data: the file in field `image`.',
})
export class PredictionUploadDto extends IntersectionType(ImageFileDto, ClassificationOptionsDto) {}
