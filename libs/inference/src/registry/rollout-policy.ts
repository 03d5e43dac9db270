import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  ValidateNested,
  validateSync,
} from 'class-validator';
import { ModelLoadError } from '../manifest/model-load-error';

/** The policy file in a model's store folder: `<store>/<model>/rollout.json`. */
export const ROLLOUT_FILE = 'rollout.json';

export const ROLLOUT_MODES = ['canary', 'shadow'] as const;
export type RolloutMode = (typeof ROLLOUT_MODES)[number];

/** When to end a rollout by itself; never promotes. */
export class AutoRollbackPolicy {
  /** Compared requests needed before judging. */
  @IsInt() @Min(1) @Max(1_000_000) min_compared!: number;
  /** Roll back when top-1 agreement falls below this (0 to 1). */
  @IsOptional() @IsNumber() @Min(0) @Max(1) min_agreement?: number;
  /** Roll back when the candidate's error rate exceeds the stable one's by more than this (0 to 1). */
  @IsOptional() @IsNumber() @Min(0) @Max(1) max_error_increase?: number;
}

/**
 * Which versions of a model serve, and how. `stable` answers by default (the newest version when unset);
 * a `candidate` takes `weight` percent of the requests (canary) or classifies a copy of `weight` percent of
 * them off the response path (shadow).
 */
export class RolloutPolicy {
  @IsOptional() @IsString() @MinLength(1) stable?: string;
  @IsOptional() @IsString() @MinLength(1) candidate?: string;
  @IsIn(ROLLOUT_MODES) mode: RolloutMode = 'shadow';
  /** Percent: of requests routed to the candidate (canary) or mirrored to it (shadow). */
  @IsNumber() @Min(0) @Max(100) weight: number = 100;
  @IsOptional() @ValidateNested() @Type(() => AutoRollbackPolicy) auto_rollback?: AutoRollbackPolicy;
  /** Set by a promotion: what a rollback right after it restores. */
  @IsOptional() @IsString() previous_stable?: string;
}

/** Checks a policy (from the file or the API); the message names each bad field. */
export function parseRolloutPolicy(raw: unknown, where: string): RolloutPolicy {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ModelLoadError(`${where} must be a JSON object.`);
  const policy = plainToInstance(RolloutPolicy, raw);
  const errors = validateSync(policy, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const messages = errors.flatMap((error) => [
      ...Object.values(error.constraints ?? {}),
      ...(error.children ?? []).flatMap((child) =>
        Object.values(child.constraints ?? {}).map((message) => `${error.property}.${message}`),
      ),
    ]);
    throw new ModelLoadError(`${where} is not a valid rollout policy: ${messages.join('; ')}.`);
  }
  return policy;
}

/** The model folder's rollout.json, or undefined when it has none. */
export function readRolloutPolicy(modelFolder: string): RolloutPolicy | undefined {
  const path = join(modelFolder, ROLLOUT_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(
      `${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseRolloutPolicy(raw, path);
}

/** Writes rollout.json whole (a temporary file renamed over it), so a reader never sees half a policy. */
export function writeRolloutPolicy(modelFolder: string, policy: RolloutPolicy): void {
  const path = join(modelFolder, ROLLOUT_FILE);
  const fields = Object.fromEntries(Object.entries(policy).filter(([, value]) => value !== undefined));
  writeFileSync(`${path}.tmp`, `${JSON.stringify(fields, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
