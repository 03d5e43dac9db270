import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class SeedPredictionQueryDto {
  @ApiProperty({
    description: 'An http(s) URL of the photo.',
    example: 'https://example.com/photos/apple-pie.jpg',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  image_link!: string;
}

/** The original FastAPI service's answer, field names unchanged. */
@ApiSchema({
  name: 'SeedPredictionResponse',
  description: "The original FastAPI service's answer, field names unchanged.",
})
export class SeedPredictionResponseDto {
  @ApiProperty({
    name: 'model-prediction',
    example: 'apple pie',
    description: 'The most likely class, spelled as the seed did.',
  })
  'model-prediction'!: string;

  @ApiProperty({
    name: 'model-prediction-confidence-score',
    example: 0.98,
    minimum: 0,
    maximum: 1,
    description: 'Its probability (softmax applied once, unlike the seed).',
  })
  'model-prediction-confidence-score'!: number;
}

@ApiSchema({ name: 'Welcome', description: "The original service's welcome message." })
export class WelcomeDto {
  @ApiProperty({ example: 'Welcome to the Food Vision API!' })
  message!: string;
}
