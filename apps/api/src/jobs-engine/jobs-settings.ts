import { join, resolve } from 'node:path';
import type { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/environment';

/** The jobs' configuration, read once from the validated environment. */
export interface JobsSettings {
  dir: string;
  redisUrl?: string;
  concurrency: number;
  maxItems: number;
  maxArchiveBytes: number;
  maxArchiveMembers: number;
  maxExpandedBytes: number;
  maxCompressionRatio: number;
  attempts: number;
  /** With Redis: how long a replica's hold on an item lasts unless renewed (BullMQ lockDuration). */
  leaseMs: number;
  /** A member larger than this is refused like an upload (`too_large`): MAX_IMAGE_BYTES. */
  maxMemberBytes: number;
  allowHosts: readonly string[];
  allowedPorts: readonly number[];
}

export function jobsSettings(config: ConfigService<EnvironmentVariables, true>): JobsSettings {
  return {
    dir: resolve(config.get('JOBS_DIR', { infer: true })),
    redisUrl: config.get('JOBS_REDIS_URL', { infer: true }),
    concurrency: config.get('JOBS_CONCURRENCY', { infer: true }),
    maxItems: config.get('JOBS_MAX_ITEMS', { infer: true }),
    maxArchiveBytes: config.get('JOBS_MAX_ARCHIVE_BYTES', { infer: true }),
    maxArchiveMembers: config.get('JOBS_MAX_ARCHIVE_MEMBERS', { infer: true }),
    maxExpandedBytes: config.get('JOBS_MAX_EXPANDED_BYTES', { infer: true }),
    maxCompressionRatio: config.get('JOBS_MAX_COMPRESSION_RATIO', { infer: true }),
    attempts: config.get('JOBS_ITEM_ATTEMPTS', { infer: true }),
    leaseMs: config.get('JOBS_LEASE_MS', { infer: true }),
    maxMemberBytes: config.get('MAX_IMAGE_BYTES', { infer: true }),
    allowHosts: config.get('IMAGE_FETCH_ALLOW_HOSTS', { infer: true }),
    allowedPorts: config.get('IMAGE_FETCH_ALLOWED_PORTS', { infer: true }),
  };
}

/** Where a job's files go while it is taken in (and, embedded, until it ends). */
export function jobDirectory(settings: JobsSettings, jobId: string): string {
  return join(settings.dir, 'jobs', jobId);
}
