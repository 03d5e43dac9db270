import { Module } from '@nestjs/common';
import { ClassifierService } from './classifier.service';
import { ConfigurableInferenceModule } from './inference.options';
import { ModelLoader } from './registry/model-registry';

/** Loads the configured model (a model-loader provider) and classifies images with it (ClassifierService). */
@Module({
  providers: [ModelLoader, ClassifierService],
  exports: [ModelLoader, ClassifierService],
})
export class InferenceModule extends ConfigurableInferenceModule {}
