import type { ServedModel } from '@app/inference';
import { resizeFidelity } from '../data-plane/serving-state';
import type { ModelMetadataDto, ModelSummaryDto } from './dto/model-metadata.dto';

export function toModelSummary({
  name,
  versions,
  state,
  isDefault,
  candidate,
}: ServedModel): ModelSummaryDto {
  return {
    name,
    version: state.manifest?.version ?? versions.at(-1) ?? 'unknown',
    versions,
    ...(state.manifest ? { format: state.manifest.format } : {}),
    status: state.status,
    ...(state.status === 'failed' ? { reason: state.reason } : {}),
    default: isDefault,
    ...(candidate
      ? {
          candidate: {
            version: candidate.version,
            status: candidate.state.status,
            mode: candidate.mode,
            weight: candidate.weight,
          },
        }
      : {}),
  };
}

export function toModelMetadata(served: ServedModel): ModelMetadataDto {
  const { state } = served;
  const summary = toModelSummary(served);
  const manifest = state.manifest;
  if (!manifest) return summary;
  const { height, width, channels, dtype, channel_order, value_range, mean, std, resize } = manifest.input;
  const metadata: ModelMetadataDto = {
    ...summary,
    description: manifest.description,
    input: {
      height,
      width,
      channels,
      dtype,
      channel_order,
      value_range,
      mean,
      std,
      resize: { ...resize, fidelity: resizeFidelity(manifest.input) },
    },
    output_kind: manifest.output.kind,
    license: { ...manifest.license },
    source_url: manifest.source.url,
  };
  if (state.status !== 'ready') return metadata;
  const { runtime, resolved, loadedAt, loadMs, warmupMs } = state.model;
  return {
    ...metadata,
    runtime: { engine: runtime.engine, backend: runtime.backend },
    label_count: resolved.labels.length,
    labels: resolved.labels.map((label, index) => ({
      index,
      label,
      display_name: resolved.displayNames[index],
    })),
    sha256: resolved.sha256,
    loaded_at: loadedAt.toISOString(),
    load_ms: Math.round(loadMs),
    warmup_ms: Math.round(warmupMs),
  };
}
