import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { breakingChanges, normalizePath, type OpenApiDocument } from '../support/openapi-breaking-changes';

const OPENAPI_DIR = join(__dirname, '..', '..', 'openapi');
const SEED_OPERATIONS = ['GET /', 'POST /net/image/prediction'];

interface ApprovedChanges {
  approved: Array<{ change: string; reason: string }>;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The last released spec: the highest version in openapi/released/. */
function lastReleased(): { file: string; document: OpenApiDocument } {
  const versions = readdirSync(join(OPENAPI_DIR, 'released'))
    .map((file) => /^openapi-(\d+)\.(\d+)\.(\d+)\.json$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .sort(
      (a, b) => Number(a[1]) - Number(b[1]) || Number(a[2]) - Number(b[2]) || Number(a[3]) - Number(b[3]),
    );
  const file = versions.at(-1)?.[0];
  if (!file) throw new Error('openapi/released/ holds no openapi-<version>.json');
  return { file, document: readJson<OpenApiDocument>(join(OPENAPI_DIR, 'released', file)) };
}

function touchesSeed(change: string): boolean {
  const operation = change.replace(/^[a-z-]+: /, '');
  return SEED_OPERATIONS.some((seed) => operation === seed || operation.startsWith(`${seed} `));
}

const released = lastReleased();
const current = readJson<OpenApiDocument>(join(OPENAPI_DIR, 'openapi.json'));
const approved = readJson<ApprovedChanges>(join(OPENAPI_DIR, 'approved-changes.json')).approved;

describe(`the API against the last released spec (${released.file})`, () => {
  const changes = breakingChanges(released.document, current);

  it('makes no breaking change that approved-changes.json does not list with a reason', () => {
    const listed = new Set(approved.map((entry) => entry.change));
    expect(changes.filter((change) => !listed.has(change))).toEqual([]);
    for (const entry of approved) expect(entry.reason.trim().length, entry.change).toBeGreaterThan(10);
  });

  it('lists no approved change that no longer happens', () => {
    expect(approved.map((entry) => entry.change).filter((change) => !changes.includes(change))).toEqual([]);
  });

  it("never breaks the seed's routes, approved or not", () => {
    expect(changes.filter(touchesSeed)).toEqual([]);
  });

  it("lists the seed's route as the seed declared it, POST /net/image/prediction/ with its trailing slash", () => {
    expect(Object.keys(current.paths)).toContain('/net/image/prediction/');
    expect(Object.keys(current.paths)).not.toContain('/net/image/prediction');
    expect(current.paths['/net/image/prediction/'].post).toBeDefined();
    const slashed = Object.keys(current.paths).filter((path) => path.length > 1 && path.endsWith('/'));
    expect(slashed, 'only the seed keeps its trailing slash (redocly.yaml)').toEqual([
      '/net/image/prediction/',
    ]);
  });
});

describe('the breaking-change check', () => {
  const clone = () =>
    structuredClone(released.document) as OpenApiDocument & {
      components: { schemas: Record<string, Record<string, unknown>> };
    };

  it('finds nothing between a spec and itself, or a slash added to a path', () => {
    expect(breakingChanges(released.document, released.document)).toEqual([]);
    const slashed = clone();
    slashed.paths = Object.fromEntries(
      Object.entries(slashed.paths).map(([path, item]) => [
        path === '/' ? path : `${normalizePath(path)}/`,
        item,
      ]),
    );
    expect(breakingChanges(released.document, slashed)).toEqual([]);
  });

  it('finds a removed operation, a removed response field and a response field made optional', () => {
    const next = clone();
    delete next.paths['/v1/models'];
    const classPrediction = next.components.schemas.ClassPrediction as {
      properties: Record<string, unknown>;
      required: string[];
    };
    delete classPrediction.properties.label;
    const response = next.components.schemas.PredictionResponse as { required: string[] };
    response.required = response.required.filter((name) => name !== 'timings');
    const changes = breakingChanges(released.document, next);
    expect(changes).toContain('removed-operation: GET /v1/models');
    expect(changes).toContain('removed-response-property: POST /v1/predictions 200 .predictions[] .label');
    expect(changes).toContain('response-property-now-optional: POST /v1/predictions 200 .timings');
  });

  it('finds a request field made required, a narrowed type and a stricter limit', () => {
    const next = clone();
    const request = next.components.schemas.PredictionRequest as {
      properties: Record<string, Record<string, unknown>>;
      required?: string[];
    };
    request.required = [...(request.required ?? []), 'model'];
    request.properties.top_k.type = 'integer';
    request.properties.url.maxLength = 512;
    const changes = breakingChanges(released.document, next);
    expect(changes).toContain('required-request-property: POST /v1/predictions body application/json .model');
    expect(changes).toContain(
      'narrowed-request-type: POST /v1/predictions body application/json .top_k number → integer',
    );
    expect(changes).toContain(
      'narrowed-request-limit: POST /v1/predictions body application/json .url maxLength 2048 → 512',
    );
  });

  it('finds a request enum value removed, a response enum value added and a new required query parameter', () => {
    const next = clone();
    const predict = next.paths['/v1/predictions'].post as {
      parameters: Array<{ name: string; schema: { enum: string[] } }>;
    };
    predict.parameters.find((parameter) => parameter.name === 'include')!.schema.enum = [];
    const imageInfo = next.components.schemas.ImageInfo as { properties: { format: { enum: string[] } } };
    imageInfo.properties.format.enum.push('heic');
    const seed = next.paths['/net/image/prediction'].post as { parameters: Array<Record<string, unknown>> };
    seed.parameters.push({ name: 'api_version', in: 'query', required: true, schema: { type: 'string' } });
    const changes = breakingChanges(released.document, next);
    expect(changes).toContain('removed-request-enum-value: POST /v1/predictions query include "model_input"');
    expect(changes).toContain('added-response-enum-value: POST /v1/predictions 200 .image .format "heic"');
    expect(changes).toContain('new-required-parameter: POST /net/image/prediction query api_version');
    expect(changes.filter(touchesSeed)).toEqual([
      'new-required-parameter: POST /net/image/prediction query api_version',
    ]);
  });
});
