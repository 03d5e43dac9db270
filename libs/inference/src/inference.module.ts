import { Module } from '@nestjs/common';
import { ClassifierService } from './classifier.service';
import { ConfigurableInferenceModule } from './inference.options';
import { ModelRegistry } from './registry/model-registry';

/** Loads the configured model (the ModelRegistry) and classifies images with it (ClassifierService). */
@Module({
  providers: [ModelRegistry, ClassifierService],
  exports: [ModelRegistry, ClassifierService],
})
export class InferenceModule extends ConfigurableInferenceModule {}
