import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createFoodVisionClient, type FoodVisionApi } from '@app/sdk';

/** The parts of an OpenAPI 3 document the contract check reads. */
interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, unknown> };
}

interface OperationObject {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  operation: OperationObject;
}

export const OPENAPI_PATH = join(__dirname, '..', '..', 'openapi', 'openapi.json');
const SPEC_ID = 'openapi.json';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

/**
 * Checks HTTP responses against the committed OpenAPI document: the operation exists for the method and path,
 * the status is declared, the content type is one the document lists for it, and the body matches its schema
 * (ajv over the document's own component schemas). Throws a ContractViolation that says what differs.
 */
export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();
  /** operationIds of every response checked so far, to prove which operations a suite exercised. */
  readonly exercised = new Set<string>();

  constructor(
    readonly document: OpenApiDocument = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument,
  ) {
    // strict: false because OpenAPI 3.0 schemas carry keywords JSON Schema does not know (`example`).
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: SPEC_ID, components: document.components });
    this.routes = Object.entries(document.paths).flatMap(([template, item]) =>
      Object.entries(item)
        .filter(([method]) => HTTP_METHODS.includes(method))
        .map(([method, operation]) => ({
          method: method.toUpperCase(),
          template,
          pattern: pathPattern(template),
          operation,
        })),
    );
  }

  /** Every operationId in the document. */
  operationIds(): string[] {
    return this.routes.map((route) => route.operation.operationId);
  }

  /** Validates one response (its body is read from a clone, so the caller can still read it). */
  async check(method: string, url: string, response: Response): Promise<void> {
    const path = new URL(url).pathname;
    const where = `${method} ${path} → ${response.status}`;
    const route = this.route(method, path);
    if (!route)
      throw new ContractViolation(`${where}: no operation in openapi.json matches this method and path.`);
    this.exercised.add(route.operation.operationId);
    const declared = route.operation.responses[String(response.status)] ?? route.operation.responses.default;
    if (!declared) {
      throw new ContractViolation(
        `${where}: status ${response.status} is not declared for ${route.operation.operationId} (declared: ${Object.keys(route.operation.responses).join(', ')}).`,
      );
    }
    const text = await response.clone().text();
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (!declared.content) {
      if (text.length > 0)
        throw new ContractViolation(`${where}: the document declares no body, but one was sent.`);
      return;
    }
    const content = declared.content[mediaType];
    if (!content) {
      throw new ContractViolation(
        `${where}: content type "${mediaType}" is not declared (declared: ${Object.keys(declared.content).join(', ')}).`,
      );
    }
    if (!/[/+]json$/.test(mediaType)) return;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ContractViolation(`${where}: the ${mediaType} body is not JSON: ${text.slice(0, 200)}`);
    }
    const validate = this.validator(
      `${route.method} ${route.template} ${response.status} ${mediaType}`,
      content.schema,
    );
    if (!validate(body)) {
      const errors = (validate.errors ?? []).map(
        (error) => `${error.instancePath || '(body)'} ${error.message ?? ''}`,
      );
      throw new ContractViolation(`${where}: the body does not match its schema: ${errors.join('; ')}`);
    }
  }

  /** A fetch that checks every response it returns; give it to the SDK or use it for hand-written protocol requests. */
  fetch(): typeof fetch {
    return async (input, init) => {
      const request = new Request(input, init);
      const response = await fetch(request);
      await this.check(request.method, request.url, response);
      return response;
    };
  }

  private route(method: string, path: string): Route | undefined {
    const normalised = path.length > 1 ? path.replace(/\/$/, '') : path;
    const candidates = this.routes.filter(
      (route) => route.method === method && route.pattern.test(normalised),
    );
    // A literal path (`/v1/predictions/batch`) wins over a templated one (`/v1/predictions/{id}`).
    return candidates.sort((a, b) => templateCount(a.template) - templateCount(b.template))[0];
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(pointRefsAtSpec(schema) as object);
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/** Matches a path as Express does: a trailing slash on either side is optional (non-strict routing). */
function pathPattern(template: string): RegExp {
  const escaped = template
    .replace(/(.)\/$/, '$1')
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}/?$`);
}

function templateCount(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

/** `#/components/schemas/X` → `openapi.json#/components/schemas/X`, so refs resolve against the added document. */
function pointRefsAtSpec(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(pointRefsAtSpec);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#/')
        ? [key, `${SPEC_ID}${value}`]
        : [key, pointRefsAtSpec(value)],
    ),
  );
}

/** The generated SDK pointed at `baseUrl`, with every response it receives checked against the document. */
export function checkedClient(
  baseUrl: string,
  contract = new OpenApiContract(),
): { api: FoodVisionApi; contract: OpenApiContract } {
  return { api: createFoodVisionClient(baseUrl, { fetch: contract.fetch() }), contract };
}

/** The `data` of an SDK call that must succeed with `status`; the test fails with the problem body otherwise. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response?: Response }>,
  status = 200,
): Promise<T> {
  const { data, error, response } = await call;
  expect(error).toBeUndefined();
  expect(response?.status).toBe(status);
  return data as T;
}
