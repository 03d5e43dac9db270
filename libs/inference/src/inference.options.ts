import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface InferenceModuleOptions {
  /** The model's manifest.json. */
  manifestPath: string;
  /** Folder with the model files; defaults to the manifest's folder. */
  modelDir?: string;
  /** Run one inference on a blank image before reporting ready (default true). */
  warmup?: boolean;
}

export const {
  ConfigurableModuleClass: ConfigurableInferenceModule,
  MODULE_OPTIONS_TOKEN: INFERENCE_OPTIONS,
  OPTIONS_TYPE: INFERENCE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: INFERENCE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<InferenceModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
