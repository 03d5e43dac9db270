import type { ModelManifest, ModelState } from '@app/inference';
import type { ModelMetadataDto, ModelSummaryDto } from './dto/model-metadata.dto';

type KnownState = ModelState & { manifest: ModelManifest };

export function toModelSummary(state: KnownState): ModelSummaryDto {
  const { manifest } = state;
  return {
    name: manifest.name,
    version: manifest.version,
    format: manifest.format,
    status: state.status,
    ...(state.status === 'failed' ? { reason: state.reason } : {}),
    default: true,
  };
}

export function toModelMetadata(state: KnownState): ModelMetadataDto {
  const { manifest } = state;
  const { height, width, channels, dtype, channel_order, value_range, mean, std, resize } = manifest.input;
  const metadata: ModelMetadataDto = {
    ...toModelSummary(state),
    description: manifest.description,
    input: { height, width, channels, dtype, channel_order, value_range, mean, std, resize: { ...resize } },
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
