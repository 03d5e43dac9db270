import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({
  name: 'ModelInputImage',
  description: 'The image as the model saw it: decoded, oriented and resized to its input, before scaling.',
})
export class ModelInputImageDto {
  @ApiProperty({ enum: ['image/png'], example: 'image/png' })
  media_type!: 'image/png';

  @ApiProperty({ example: 224 })
  width!: number;

  @ApiProperty({ example: 224 })
  height!: number;

  @ApiProperty({ format: 'byte', description: 'The PNG file in standard base64.', example: 'iVBORw0KGgo=' })
  data!: string;
}
