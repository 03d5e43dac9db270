import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

export const MODEL_FORMATS = ['tflite', 'tfjs-layers', 'tfjs-graph', 'keras-h5', 'onnx'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

export const RESIZE_METHODS = ['bilinear', 'nearest', 'bicubic', 'lanczos3'] as const;
export type ResizeMethod = (typeof RESIZE_METHODS)[number];

/** `fill` stretches the whole image (Keras `load_img`), `cover` centre-crops, `contain` pads. */
export const RESIZE_FITS = ['fill', 'cover', 'contain'] as const;
export type ResizeFit = (typeof RESIZE_FITS)[number];

/**
 * `exact` decodes every pixel and resizes as `tf.image.resize` does; `fast` lets a large photo shrink while it is
 * decoded (JPEG DCT scaling) to about twice the input first. Measured in docs/performance.md.
 */
export const RESIZE_FIDELITIES = ['exact', 'fast'] as const;
export type ResizeFidelity = (typeof RESIZE_FIDELITIES)[number];
/** When a manifest does not say: see docs/performance.md (fidelity) for the numbers behind the choice. */
export const DEFAULT_RESIZE_FIDELITY: ResizeFidelity = 'fast';

export const OUTPUT_KINDS = ['probabilities', 'logits'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export class ModelFileEntry {
  @IsString() @MinLength(1) path!: string;
  @IsOptional() @IsInt() @Min(0) size?: number;
  @IsOptional() @Matches(/^[0-9a-f]{64}$/) sha256?: string;
  /** Git blob id (sha1 of `blob <size>\0<bytes>`): what a pinned raw.githubusercontent.com URL can be checked against. */
  @IsOptional() @Matches(/^[0-9a-f]{40}$/) git_blob_sha1?: string;
  /** Where `npm run model:pull` downloads this file; defaults to `source.url` for the entry, else beside it. */
  @IsOptional() @Matches(/^https?:\/\//) url?: string;
}

export class ResizeSpec {
  @IsIn(RESIZE_METHODS) method!: ResizeMethod;
  @IsIn(RESIZE_FITS) fit!: ResizeFit;
  @IsOptional() @IsIn(RESIZE_FIDELITIES) fidelity?: ResizeFidelity;
}

export class ModelInputSpec {
  @IsInt() @Min(1) @Max(4096) height!: number;
  @IsInt() @Min(1) @Max(4096) width!: number;
  @IsIn([3]) channels!: 3;
  @IsIn(['uint8', 'float32']) dtype!: 'uint8' | 'float32';
  @IsIn(['RGB', 'BGR']) channel_order!: 'RGB' | 'BGR';
  /** Pixel values 0..255 are mapped linearly onto this range before mean/std. */
  @IsArray() @ArrayMinSize(2) @ArrayMaxSize(2) @IsNumber({}, { each: true }) value_range!: [number, number];
  @IsOptional() @IsArray() @ArrayMinSize(3) @ArrayMaxSize(3) @IsNumber({}, { each: true }) mean?: number[];
  @IsOptional() @IsArray() @ArrayMinSize(3) @ArrayMaxSize(3) @IsNumber({}, { each: true }) std?: number[];
  @ValidateNested() @Type(() => ResizeSpec) resize!: ResizeSpec;
}

export class ModelOutputSpec {
  @IsIn(OUTPUT_KINDS) kind!: OutputKind;
}

export class ModelSource {
  @IsOptional() @IsString() url?: string;
  @IsOptional() @IsString() description?: string;
}

export class ModelLicense {
  @IsString() name!: string;
  @IsOptional() @IsString() url?: string;
  /** False for weights that may be used in tests only (e.g. the STM32 model zoo's SLA0044). */
  @IsBoolean() redistributable!: boolean;
}

/** Drift thresholds of one model (Jensen–Shannon divergences, 0 to 1); unset ones are DRIFT_*_THRESHOLD's. */
export class DriftThresholdsSpec {
  @IsOptional() @IsNumber() @Min(0) @Max(1) confidence?: number;
  @IsOptional() @IsNumber() @Min(0) @Max(1) class_mix?: number;
}

/** Which reference profile the model is compared with, and the photos it was made from (`npm run model:profile`). */
export class ReferenceProfileSpec {
  /** The profile's file, beside the manifest. */
  @IsString() @MinLength(1) file!: string;
  /** The folder of labelled photos, as given to model:profile. */
  @IsString() photos!: string;
  @IsInt() @Min(1) count!: number;
  /** sha256 over the sorted `file sha256` lines of those photos. */
  @Matches(/^[0-9a-f]{64}$/) digest!: string;
}

/** How the model's answers are watched: abstention under a confidence, drift thresholds, its reference. */
export class ModelMonitoringSpec {
  /** Under this top-1 probability the answer abstains (`abstained: true`); a request may set its own. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) min_confidence?: number;
  @IsOptional() @ValidateNested() @Type(() => DriftThresholdsSpec) drift_thresholds?: DriftThresholdsSpec;
  @IsOptional() @ValidateNested() @Type(() => ReferenceProfileSpec) reference?: ReferenceProfileSpec;
}

export class ModelManifest {
  @Matches(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
    message: 'name must be 1-64 lower-case letters, digits, dots, dashes or underscores',
  })
  name!: string;
  @IsString() @MinLength(1) version!: string;
  @IsOptional() @IsString() description?: string;
  @IsIn(MODEL_FORMATS) format!: ModelFormat;
  /** The file the runtime opens (a `.tflite`, a `model.json`, ...); must be listed in `files`. */
  @IsString() entry!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ModelFileEntry)
  files!: ModelFileEntry[];
  @IsOptional() @IsArray() @IsString({ each: true }) labels?: string[];
  @IsOptional() @IsString() labels_file?: string;
  @IsOptional() @IsObject() display_names?: Record<string, string>;
  /**
   * Keras `.h5` only: what each Lambda layer computes, by layer name, since its Python code cannot run here
   * (e.g. `{"lambda_3": {"op": "clip", "min": -4, "max": 4}}`); checked when the model is loaded.
   */
  @IsOptional() @IsObject() lambda_layers?: Record<string, unknown>;
  @ValidateNested() @Type(() => ModelInputSpec) input!: ModelInputSpec;
  @ValidateNested() @Type(() => ModelOutputSpec) output!: ModelOutputSpec;
  @ValidateNested() @Type(() => ModelSource) source!: ModelSource;
  @ValidateNested() @Type(() => ModelLicense) license!: ModelLicense;
  @IsOptional() @ValidateNested() @Type(() => ModelMonitoringSpec) monitoring?: ModelMonitoringSpec;
}
