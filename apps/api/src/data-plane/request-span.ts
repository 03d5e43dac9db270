import type { ClassifierLease } from '@app/inference';
import { recordingSpan } from '@app/telemetry';
import type { Protocol } from './protocol';

/** Names, on the traced request's span, the model version that answers it, the protocol and the image count. */
export function describeRequest(lease: ClassifierLease, protocol: Protocol, images: number): void {
  recordingSpan()?.setAttributes({
    'food_vision.protocol': protocol,
    'food_vision.model.name': lease.model.name,
    'food_vision.model.version': lease.model.version,
    'food_vision.request.images': images,
  });
}
