import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { Request } from 'express';
import { problem } from '@app/problem';
import { ServingState } from '../data-plane/serving-state';
import { JobsEngine } from '../jobs-engine/jobs-engine';
import type { JobInputKind, JobOptions, JobRecord, NewItem } from '../jobs-engine/job-types';
import { checkWebhookUrl } from '../jobs-engine/webhook/webhook-address';
import { JobOptionsDto } from './dto/job-options.dto';
import { takeInArchive } from './intake/archive/archive-intake';
import { writeBodyToFile, type BodyFile } from './intake/body-file';
import { readMultipart, type MultipartJob } from './intake/multipart-body';
import { jsonlItems, listItems } from './intake/list-items';

const JSONL_TYPES = [
  'application/x-ndjson',
  'application/jsonl',
  'application/json-lines',
  'application/x-jsonlines',
];
const ARCHIVE_TYPES = [
  'application/zip',
  'application/x-zip-compressed',
  'application/x-tar',
  'application/gzip',
  'application/x-gzip',
  'application/x-gtar',
  'application/octet-stream',
];
/** Every content type `POST /v1/jobs` reads. */
export const JOB_CONTENT_TYPES = [
  'application/json',
  'multipart/form-data',
  ...JSONL_TYPES,
  ...ARCHIVE_TYPES,
];

/**
 * Turns a `POST /v1/jobs` into a stored job: reads the items (a JSON list, a JSONL file, an archive), checks the
 * options (model served, webhook address), applies the key's quota and the idempotency key, and hands the job to
 * the engine. Whatever it wrote for a job it refuses is removed.
 */
@Injectable()
export class JobIntakeService {
  constructor(
    private readonly engine: JobsEngine,
    private readonly serving: ServingState,
  ) {}

  async create(request: Request, owner: string): Promise<{ job: JobRecord; created: boolean }> {
    const id = randomUUID();
    const jobDir = this.engine.jobDirectory(id);
    try {
      // A form carries its options beside its file, so it is read first; otherwise the options come first (a JSON
      // body's fields, or the query beside an upload), and a bad one costs no upload.
      const form = request.is('multipart/form-data')
        ? await readMultipart(request, join(jobDir, 'upload'), this.engine.settings.maxArchiveBytes)
        : undefined;
      const rawOptions = form
        ? { ...(request.query as Record<string, unknown>), ...form.fields }
        : request.is('application/json')
          ? jsonOptions(request.body)
          : { ...(request.query as Record<string, unknown>) };
      const options = this.options(rawOptions);
      const idempotencyKey = this.idempotencyKey(request, rawOptions);
      const { kind, items, digest } = form
        ? await this.readUpload(form.file, isJsonlFile(form.file) ? 'jsonl' : 'archive', id, jobDir)
        : await this.readItems(request, id, jobDir);
      const fingerprint = createHash('sha256')
        .update(JSON.stringify({ kind, options, digest }))
        .digest('hex');
      const store = await this.engine.store();
      const pending = await store.pendingItems(owner);
      const { maxItems } = this.engine.settings;
      if (pending + items.length > maxItems) {
        throw problem(
          'too_many_items',
          `This job has ${items.length} items and your unfinished jobs ${pending} more: at most ${maxItems} may wait at once (JOBS_MAX_ITEMS). Wait for a job to finish, or send fewer items.`,
          { limit_items: maxItems, pending_items: pending },
        );
      }
      const result = await store.create({
        id,
        owner,
        options,
        inputKind: kind,
        idempotencyKey,
        fingerprint,
        items,
      });
      if (!result.created) {
        await rm(jobDir, { recursive: true, force: true });
        if (result.job.fingerprint !== fingerprint) {
          throw problem(
            'idempotency_key_reused',
            `The idempotency key "${idempotencyKey}" was used for another request (job ${result.job.id}): use a new key for a new job.`,
            { job_id: result.job.id },
          );
        }
      } else {
        await this.engine.created(result.job);
      }
      return result;
    } catch (error) {
      await rm(jobDir, { recursive: true, force: true });
      throw error;
    }
  }

  private async readItems(
    request: Request,
    jobId: string,
    jobDir: string,
  ): Promise<{ kind: JobInputKind; items: NewItem[]; digest: unknown }> {
    const settings = this.engine.settings;
    if (request.is('application/json')) {
      const { items } = request.body as { items?: unknown };
      if (!Array.isArray(items)) {
        throw problem('validation_failed', '`items` must be an array of URLs or {id, url} objects.', {
          errors: [{ field: 'items', message: 'items must be an array' }],
        });
      }
      const list = listItems(items, 'items');
      return { kind: 'json', items: list, digest: list };
    }
    const upload = join(jobDir, 'upload');
    if (request.is(JSONL_TYPES)) {
      return this.readUpload(
        await writeBodyToFile(request, upload, settings.maxArchiveBytes),
        'jsonl',
        jobId,
        jobDir,
      );
    }
    if (request.is(ARCHIVE_TYPES)) {
      return this.readUpload(
        await writeBodyToFile(request, upload, settings.maxArchiveBytes),
        'archive',
        jobId,
        jobDir,
      );
    }
    throw problem(
      'unsupported_media_type',
      `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted: send a JSON list (application/json), a JSONL file (application/x-ndjson) or an archive (application/zip, application/x-tar, application/gzip), or either as the file "archive" of a form (multipart/form-data).`,
    );
  }

  /** The items of an uploaded JSONL list or archive, already on disk. */
  private async readUpload(
    file: BodyFile,
    kind: 'jsonl' | 'archive',
    jobId: string,
    jobDir: string,
  ): Promise<{ kind: JobInputKind; items: NewItem[]; digest: unknown }> {
    const settings = this.engine.settings;
    if (kind === 'jsonl') {
      const items = await jsonlItems(file.path);
      await rm(jobDir, { recursive: true, force: true });
      return { kind: 'jsonl', items, digest: items };
    }
    const items = await takeInArchive(file.path, jobId, jobDir, {
      maxMembers: settings.maxArchiveMembers,
      maxExpandedBytes: settings.maxExpandedBytes,
      maxCompressionRatio: settings.maxCompressionRatio,
      maxMemberBytes: settings.maxMemberBytes,
    });
    await rm(file.path, { force: true });
    return { kind: 'archive', items, digest: file.sha256 };
  }

  private options(raw: Record<string, unknown>): JobOptions {
    const dto = plainToInstance(JobOptionsDto, raw);
    const fields = validateSync(dto, {
      whitelist: true,
      forbidNonWhitelisted: true,
      stopAtFirstError: true,
    }).flatMap((error) =>
      Object.values(error.constraints ?? {}).map((message) => ({ field: error.property, message })),
    );
    if (fields.length > 0) {
      throw problem('validation_failed', fields.map((field) => field.message).join('; '), { errors: fields });
    }
    if (dto.webhook_url !== undefined) checkWebhookUrl(dto.webhook_url, this.engine.settings);
    const model = dto.model ?? this.serving.list()[0]?.name;
    // An unknown model or version is refused now (404), not item by item.
    if (model !== undefined && (dto.model !== undefined || dto.model_version !== undefined)) {
      this.serving.modelReadiness(model, dto.model_version);
    }
    return {
      ...(dto.model !== undefined ? { model: dto.model } : {}),
      ...(dto.model_version !== undefined ? { modelVersion: dto.model_version } : {}),
      ...(dto.top_k !== undefined ? { topK: dto.top_k } : {}),
      ...(dto.webhook_url !== undefined ? { webhookUrl: dto.webhook_url } : {}),
    };
  }

  private idempotencyKey(request: Request, raw: Record<string, unknown>): string | undefined {
    const header = request.headers['idempotency-key'];
    const fromHeader = Array.isArray(header) ? header[0] : header;
    const fromBody = typeof raw.idempotency_key === 'string' ? raw.idempotency_key : undefined;
    if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
      throw problem(
        'validation_failed',
        'The Idempotency-Key header and `idempotency_key` differ: send one of them.',
        {
          errors: [{ field: 'idempotency_key', message: 'differs from the Idempotency-Key header' }],
        },
      );
    }
    const key = fromHeader ?? fromBody;
    if (key !== undefined && (key.length === 0 || key.length > 200)) {
      throw problem('validation_failed', 'The idempotency key must be 1 to 200 characters.', {
        errors: [{ field: 'idempotency_key', message: 'must be 1 to 200 characters' }],
      });
    }
    return key;
  }
}

/** A form's file is a JSONL list when its name or type says so; anything else is read as an archive. */
function isJsonlFile(file: MultipartJob['file']): boolean {
  return /\.(jsonl|ndjson)$/i.test(file.filename) || JSONL_TYPES.includes(file.mimeType);
}

/** A JSON body's fields other than `items`: the job's options. */
function jsonOptions(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw problem('validation_failed', 'The body must be a JSON object with `items`.', {
      errors: [{ field: 'items', message: 'items must be an array' }],
    });
  }
  const { items: _items, ...options } = body as Record<string, unknown>;
  return options;
}
