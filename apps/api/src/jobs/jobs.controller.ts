import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ApiExtension,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { problem } from '@app/problem';
import type { EnvironmentVariables } from '../config/environment';
import { JobsEngine } from '../jobs-engine/jobs-engine';
import { jobStatusBody, type JobStatusBody } from '../jobs-engine/job-status';
import type { ResultOrder } from '../jobs-engine/job-types';
import { ApiProblemResponses } from '../problem/api-problem-responses.decorator';
import { URL_INTAKE_PROBLEMS } from '../problem/prediction-problems';
import { CreateJobRequestDto, JobItemDto, JobUploadFormDto } from './dto/job-options.dto';
import { JobListDto, JobResultLineDto, JobStatusDto } from './dto/job-status.dto';
import { JobIntakeService } from './job-intake.service';
import { jobOwner } from './job-owner';
import { JOB_BODY_EXTENSION } from './jobs-openapi';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JSONL = 'application/x-ndjson';

@ApiTags('jobs')
@ApiExtraModels(CreateJobRequestDto, JobUploadFormDto, JobItemDto, JobResultLineDto)
@Controller('v1/jobs')
export class JobsController {
  private readonly keysEnabled: boolean;

  constructor(
    private readonly intake: JobIntakeService,
    private readonly engine: JobsEngine,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    this.keysEnabled = config.get('API_KEYS', { infer: true }).length > 0;
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Start a bulk job: a photo library classified in the background',
    description:
      'The photos as a JSON list of URLs (`application/json`), a JSONL file of `{"id", "url"}` lines (`application/x-ndjson`), or an archive of photo files (`application/zip`, `application/x-tar`, `application/gzip` for .tar.gz; the format is read from the bytes), or either file as the field `archive` of a form (`multipart/form-data`, the options as its text fields). With JSONL or an archive as the body the options are query parameters. Items run below interactive traffic and survive a restart; each gets one result. An archive member that is not a regular file, has a `..` or absolute path, or is larger than an upload may be, is a per-item problem naming it; an archive that is damaged, or expands past the limits (members, bytes, ratio), is refused whole. Answers 201 with the job, or 200 with the job an earlier request with the same idempotency key made.',
  })
  @ApiExtension(JOB_BODY_EXTENSION, true)
  @ApiQuery({
    name: 'top_k',
    required: false,
    type: Number,
    description: 'With JSONL or an archive: as `top_k` in the JSON body.',
  })
  @ApiQuery({
    name: 'model',
    required: false,
    type: String,
    description: 'With JSONL or an archive: as `model` in the JSON body.',
  })
  @ApiQuery({
    name: 'model_version',
    required: false,
    type: String,
    description: 'With JSONL or an archive: as `model_version`.',
  })
  @ApiQuery({
    name: 'webhook_url',
    required: false,
    type: String,
    description: 'With JSONL or an archive: as `webhook_url`.',
  })
  @ApiQuery({
    name: 'idempotency_key',
    required: false,
    type: String,
    description: 'With JSONL or an archive: as `idempotency_key` (or the `Idempotency-Key` header).',
  })
  @ApiResponse({
    status: 201,
    type: JobStatusDto,
    description: 'The job was created; `Location` is its URL.',
  })
  @ApiOkResponse({
    type: JobStatusDto,
    description: 'The job an earlier request with this idempotency key made.',
  })
  @ApiProblemResponses(
    'validation_failed',
    'json_too_deep',
    'archive_invalid',
    ...URL_INTAKE_PROBLEMS.filter((code) => code.startsWith('url_') || code === 'invalid_url'),
    'unauthorized',
    'model_not_found',
    'model_version_not_found',
    'idempotency_key_reused',
    'payload_too_large',
    'too_many_items',
    'archive_too_large',
    'unsupported_media_type',
    'model_not_ready',
    'internal_error',
  )
  async createJob(
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<JobStatusBody> {
    const { job, created } = await this.intake.create(request, jobOwner(request, this.keysEnabled));
    response.status(created ? 201 : 200).setHeader('Location', `/v1/jobs/${job.id}`);
    return jobStatusBody(job);
  }

  @Get()
  @ApiOperation({
    summary: 'List your jobs',
    description: 'The jobs of your API key (everyone’s when the API is open), newest first.',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    type: Number,
    description: 'At most this many (1 to 1000, default 100).',
  })
  @ApiOkResponse({ type: JobListDto })
  @ApiProblemResponses('validation_failed', 'unauthorized', 'internal_error')
  async listJobs(
    @Req() request: Request,
    @Query('limit') rawLimit?: string,
  ): Promise<{ jobs: JobStatusBody[] }> {
    const limit = rawLimit === undefined ? 100 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw problem('validation_failed', 'limit must be an integer from 1 to 1000.', {
        errors: [{ field: 'limit', message: 'limit must be an integer from 1 to 1000' }],
      });
    }
    const store = await this.engine.store();
    const jobs = await store.list(jobOwner(request, this.keysEnabled), limit);
    return { jobs: jobs.map((job) => jobStatusBody(job)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A job’s state and progress', description: 'State, counts, rate and ETA.' })
  @ApiParam({ name: 'id', description: 'The job’s id.' })
  @ApiOkResponse({ type: JobStatusDto })
  @ApiProblemResponses('unauthorized', 'job_not_found', 'internal_error')
  async getJob(@Req() request: Request, @Param('id') id: string): Promise<JobStatusBody> {
    return jobStatusBody(await this.job(request, id));
  }

  @Get(':id/results')
  @ApiOperation({
    summary: 'A job’s results, streamed as JSON Lines',
    description:
      'One line per item with a result so far: `{"id", "index", "prediction"}` or `{"id", "index", "problem"}` (the problem `/v1` would answer for that photo, same `code`). Every item appears once. While the job runs, the lines written so far; when `state` is `completed`, all of them.',
  })
  @ApiParam({ name: 'id', description: 'The job’s id.' })
  @ApiQuery({
    name: 'order',
    required: false,
    enum: ['input', 'completion'],
    description:
      '`input` (default): the order of the items in the job; `completion`: the order they finished in.',
  })
  @ApiProduces(JSONL)
  @ApiOkResponse({
    description: 'JSON Lines, one `JobResultLine` per line.',
    content: { [JSONL]: { schema: { $ref: getSchemaPath(JobResultLineDto) } } },
  })
  @ApiProblemResponses('validation_failed', 'unauthorized', 'job_not_found', 'internal_error')
  async getJobResults(
    @Req() request: Request,
    @Res() response: Response,
    @Param('id') id: string,
    @Query('order') rawOrder?: string,
  ): Promise<void> {
    const order = (rawOrder ?? 'input') as ResultOrder;
    if (order !== 'input' && order !== 'completion') {
      throw problem('validation_failed', 'order must be `input` or `completion`.', {
        errors: [{ field: 'order', message: 'order must be one of: input, completion' }],
      });
    }
    const job = await this.job(request, id);
    const store = await this.engine.store();
    response.status(200).type(JSONL).setHeader('X-Job-State', job.state);
    for await (const page of store.results(job.id, order)) {
      if (response.destroyed) return;
      const text = page.map((line) => JSON.stringify(line)).join('\n') + '\n';
      if (!response.write(text))
        await new Promise<void>((resolve) => response.once('drain', () => resolve()));
    }
    response.end();
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Cancel a job',
    description:
      'Items not yet started never run; results already written stay readable. Cancelling a cancelled job answers it again; a completed or failed one is 409 `job_finished`.',
  })
  @ApiParam({ name: 'id', description: 'The job’s id.' })
  @ApiOkResponse({ type: JobStatusDto, description: 'The job, now `cancelled`.' })
  @ApiProblemResponses('unauthorized', 'job_not_found', 'job_finished', 'internal_error')
  async cancelJob(@Req() request: Request, @Param('id') id: string): Promise<JobStatusBody> {
    const before = await this.job(request, id);
    if (before.state === 'completed' || before.state === 'failed') {
      throw problem(
        'job_finished',
        `Job ${id} has already ${before.state === 'completed' ? 'completed' : 'failed'}: there is nothing to cancel.`,
      );
    }
    const store = await this.engine.store();
    const job = await store.cancel(before.owner, id);
    if (!job) throw notFound(id);
    if (before.state !== 'cancelled' && job.state === 'cancelled') await this.engine.cancelled(job);
    return jobStatusBody(job);
  }

  private async job(request: Request, id: string) {
    if (!JOB_ID.test(id)) throw notFound(id);
    const store = await this.engine.store();
    const job = await store.get(jobOwner(request, this.keysEnabled), id);
    if (!job) throw notFound(id);
    return job;
  }
}

const notFound = (id: string) =>
  problem('job_not_found', `There is no job ${id} of yours: GET /v1/jobs lists your jobs.`);
