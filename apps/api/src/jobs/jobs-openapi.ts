import type { OpenAPIObject } from '@nestjs/swagger';

/** Marks the operation whose request body is a job: JSON, JSONL or an archive (applied by `applyJobBodies`). */
export const JOB_BODY_EXTENSION = 'x-job-body';

const binary = (description: string) => ({ schema: { type: 'string', format: 'binary', description } });

/**
 * @nestjs/swagger gives a body one schema for every content type; a job's body is one of five, so the
 * operation marked with `JOB_BODY_EXTENSION` gets its request body written here.
 */
export function applyJobBodies(document: OpenAPIObject): OpenAPIObject {
  for (const pathItem of Object.values(document.paths)) {
    const operation = pathItem.post as unknown as Record<string, unknown> | undefined;
    if (!operation?.[JOB_BODY_EXTENSION]) continue;
    delete operation[JOB_BODY_EXTENSION];
    operation.requestBody = {
      required: true,
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/CreateJobRequest' } },
        'multipart/form-data': { schema: { $ref: '#/components/schemas/JobUploadForm' } },
        'application/x-ndjson': {
          schema: {
            type: 'string',
            description: 'JSON Lines: one `{"id": "...", "url": "..."}` object per line (`id` optional).',
          },
        },
        'application/zip': binary('A zip archive of photo files; each file is an item named by its path.'),
        'application/x-tar': binary('A tar archive of photo files; each file is an item named by its path.'),
        'application/gzip': binary('A gzip-compressed tar archive (.tar.gz) of photo files.'),
      },
    };
  }
  return document;
}
