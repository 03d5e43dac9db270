import { Global, Module } from '@nestjs/common';
import { Explainer } from './explainer';
import { ImageSourceClassifier } from './image-source-classifier';
import { InferenceDataPlane } from './inference-data-plane';
import { InferenceQueueMetrics } from './metrics/inference-queue-metrics';
import { ModelMetrics } from './metrics/model-metrics';
import { PredictionMetrics } from './metrics/prediction-metrics';
import { DriftMonitor } from './metrics/drift-monitor';
import { MonitoringHistory } from './metrics/monitoring-history';
import { QualityMetrics } from './metrics/quality-metrics';
import { PredictionFeed } from './prediction-feed';
import { PredictionObserver } from './prediction-observer';
import { Predictor } from './predictor';
import { ComparisonMirror } from './rollout/comparison-mirror';
import { RolloutControl } from './rollout/rollout-control';
import { RolloutMonitor } from './rollout/rollout-monitor';
import { ServingState } from './serving-state';

/**
 * The one data plane under every front-end: serving state (live, ready, model ready, metadata, list, reload),
 * prediction (/v1, batch, seed) and inference (/v2, gRPC), metered by protocol. The only part of the app that
 * calls the model registry, the classifier and the image intake.
 */
@Global()
@Module({
  providers: [
    ServingState,
    ImageSourceClassifier,
    Predictor,
    Explainer,
    InferenceDataPlane,
    PredictionMetrics,
    QualityMetrics,
    PredictionObserver,
    PredictionFeed,
    ComparisonMirror,
    RolloutMonitor,
    RolloutControl,
    DriftMonitor,
    MonitoringHistory,
    ModelMetrics,
    InferenceQueueMetrics,
  ],
  exports: [
    RolloutControl,
    ServingState,
    Predictor,
    InferenceDataPlane,
    DriftMonitor,
    PredictionFeed,
    MonitoringHistory,
  ],
})
export class DataPlaneModule {}
