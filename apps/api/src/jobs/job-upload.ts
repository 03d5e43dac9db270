import type { Request } from 'express';

/**
 * A JSONL list or an archive sent to `POST /v1/jobs` (as the body or in a form): it has its own limit (JOBS_MAX_ARCHIVE_BYTES), applied by
 * the jobs intake as it streams the body to disk, instead of the limit of a JSON or image body.
 */
export function isJobUpload(request: Request): boolean {
  return request.method === 'POST' && /^\/v1\/jobs\/?$/.test(request.path) && !request.is('application/json');
}
