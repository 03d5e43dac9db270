/**
 * The changes from one OpenAPI 3.0 document to the next that break a client generated from the first: an
 * operation gone, a parameter or request field newly required or no longer accepted, a response field or status
 * gone, a request enum value gone or a response enum value added, a type changed or narrowed. Each change is one line that names where it is, e.g.
 * `removed-response-property: POST /v1/predictions 200 .predictions[].label`, so that an approved-changes file can
 * list it word for word. Paths compare without their trailing slash: Express serves `/a` and `/a/` alike.
 */

type Json = Record<string, unknown>;
type Direction = 'request' | 'response';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface OpenApiDocument {
  paths: Record<string, Json>;
  components?: { schemas?: Record<string, Json> };
}

export function normalizePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function byNormalizedPath(document: OpenApiDocument): Map<string, Json> {
  return new Map(Object.entries(document.paths).map(([path, item]) => [normalizePath(path), item]));
}

export function breakingChanges(released: OpenApiDocument, current: OpenApiDocument): string[] {
  const changes: string[] = [];
  const currentPaths = byNormalizedPath(current);
  for (const [path, releasedItem] of byNormalizedPath(released)) {
    const currentItem = currentPaths.get(path);
    for (const method of METHODS) {
      const before = releasedItem[method] as Json | undefined;
      if (!before) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const after = currentItem?.[method] as Json | undefined;
      if (!after) {
        changes.push(`removed-operation: ${where}`);
        continue;
      }
      new OperationComparison(released, current, where, changes).compare(before, after);
    }
  }
  return changes;
}

class OperationComparison {
  private readonly seen = new Set<string>();

  constructor(
    private readonly released: OpenApiDocument,
    private readonly current: OpenApiDocument,
    private readonly where: string,
    private readonly changes: string[],
  ) {}

  compare(before: Json, after: Json): void {
    this.compareParameters(asArray(before.parameters), asArray(after.parameters));
    this.compareRequestBody(before.requestBody as Json | undefined, after.requestBody as Json | undefined);
    const beforeResponses = (before.responses ?? {}) as Record<string, Json>;
    const afterResponses = (after.responses ?? {}) as Record<string, Json>;
    for (const [status, response] of Object.entries(beforeResponses)) {
      if (!status.startsWith('2')) continue;
      const next = afterResponses[status];
      if (!next) {
        this.report('removed-response', status);
        continue;
      }
      for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, Json>)) {
        const nextMedia = ((next.content ?? {}) as Record<string, Json>)[type];
        if (!nextMedia) this.report('removed-response-type', `${status} ${type}`);
        else this.schema('response', `${status}`, media.schema as Json, nextMedia.schema as Json);
      }
    }
  }

  private compareParameters(before: Json[], after: Json[]): void {
    const key = (parameter: Json) => `${String(parameter.in)}:${String(parameter.name)}`;
    const next = new Map(after.map((parameter) => [key(parameter), parameter]));
    for (const parameter of before) {
      const match = next.get(key(parameter));
      const name = `${String(parameter.in)} ${String(parameter.name)}`;
      if (!match) {
        this.report('removed-parameter', name);
        continue;
      }
      if (match.required === true && parameter.required !== true) this.report('required-parameter', name);
      this.schema('request', name, parameter.schema as Json, match.schema as Json);
    }
    const known = new Set(before.map(key));
    for (const parameter of after) {
      if (parameter.required === true && !known.has(key(parameter)))
        this.report('new-required-parameter', `${String(parameter.in)} ${String(parameter.name)}`);
    }
  }

  private compareRequestBody(before: Json | undefined, after: Json | undefined): void {
    if (!before) {
      if (after?.required === true) this.report('new-required-body', 'body');
      return;
    }
    if (!after) {
      this.report('removed-body', 'body');
      return;
    }
    for (const [type, media] of Object.entries((before.content ?? {}) as Record<string, Json>)) {
      const nextMedia = ((after.content ?? {}) as Record<string, Json>)[type];
      if (!nextMedia) this.report('removed-body-type', type);
      else this.schema('request', `body ${type}`, media.schema as Json, nextMedia.schema as Json);
    }
  }

  private schema(direction: Direction, at: string, before: Json | undefined, after: Json | undefined): void {
    if (!before || !after) return;
    // A named schema is compared once per operation and direction (it may be recursive, as V2TensorData is),
    // so a change inside it is reported where the operation first reaches it.
    if (before.$ref || after.$ref) {
      const visit = `${direction}|${String(before.$ref)}|${String(after.$ref)}`;
      if (this.seen.has(visit)) return;
      this.seen.add(visit);
    }
    const a = this.resolve(this.released, before);
    const b = this.resolve(this.current, after);

    const typeA = a.type as string | undefined;
    const typeB = b.type as string | undefined;
    if (typeA && typeB && typeA !== typeB) {
      if (typeA === 'number' && typeB === 'integer')
        this.report(`narrowed-${direction}-type`, `${at} number → integer`);
      else if (!(direction === 'response' && typeA === 'integer' && typeB === 'number'))
        this.report(`changed-${direction}-type`, `${at} ${typeA} → ${typeB}`);
    }
    if (a.nullable === true && b.nullable !== true && direction === 'request')
      this.report('request-no-longer-nullable', at);
    if (a.nullable !== true && b.nullable === true && direction === 'response')
      this.report('response-now-nullable', at);

    if (Array.isArray(a.enum) && Array.isArray(b.enum)) {
      // A request may no longer send a value it could; a response may send one a client has no case for.
      const [from, to, kind] =
        direction === 'request'
          ? [a.enum, b.enum, 'removed-request-enum-value']
          : [b.enum, a.enum, 'added-response-enum-value'];
      for (const value of from) {
        if (!to.includes(value)) this.report(kind, `${at} ${JSON.stringify(value)}`);
      }
    } else if (!Array.isArray(a.enum) && Array.isArray(b.enum) && direction === 'request') {
      this.report('request-now-enum', at);
    }

    if (direction === 'request') this.compareRequestLimits(at, a, b);

    const propertiesA = (a.properties ?? {}) as Record<string, Json>;
    const propertiesB = (b.properties ?? {}) as Record<string, Json>;
    const requiredA = new Set(asArray(a.required) as unknown as string[]);
    const requiredB = new Set(asArray(b.required) as unknown as string[]);
    for (const [name, property] of Object.entries(propertiesA)) {
      const next = propertiesB[name];
      const field = `${at} .${name}`;
      if (!next) {
        if (direction === 'response') this.report('removed-response-property', field);
        if (direction === 'request') this.report('removed-request-property', field);
        continue;
      }
      if (direction === 'request' && requiredB.has(name) && !requiredA.has(name))
        this.report('required-request-property', field);
      if (direction === 'response' && requiredA.has(name) && !requiredB.has(name))
        this.report('response-property-now-optional', field);
      this.schema(direction, field, property, next);
    }
    if (direction === 'request') {
      for (const name of requiredB) {
        if (!(name in propertiesA) && !requiredA.has(name))
          this.report('new-required-request-property', `${at} .${name}`);
      }
    }
    if (a.items && b.items) this.schema(direction, `${at}[]`, a.items as Json, b.items as Json);
    for (const keyword of ['oneOf', 'anyOf', 'allOf'] as const) {
      const listA = asArray(a[keyword]);
      const listB = asArray(b[keyword]);
      if (listA.length === 0) continue;
      if (listB.length < listA.length && keyword !== 'allOf')
        this.report(`removed-${direction}-alternative`, `${at} ${keyword} ${listA.length} → ${listB.length}`);
      listA.forEach((part, index) => {
        if (listB[index]) this.schema(direction, `${at} ${keyword}[${index}]`, part, listB[index]);
      });
    }
  }

  /** A request limit made stricter refuses values the released clients were told they could send. */
  private compareRequestLimits(at: string, a: Json, b: Json): void {
    const stricter = (keyword: string, smallerIsStricter: boolean) => {
      const before = a[keyword];
      const after = b[keyword];
      if (typeof after !== 'number') return;
      if (typeof before !== 'number' || (smallerIsStricter ? after < before : after > before))
        this.report(
          'narrowed-request-limit',
          `${at} ${keyword} ${typeof before === 'number' ? before : 'none'} → ${after}`,
        );
    };
    stricter('maximum', true);
    stricter('maxLength', true);
    stricter('maxItems', true);
    stricter('minimum', false);
    stricter('minLength', false);
    stricter('minItems', false);
  }

  private resolve(document: OpenApiDocument, schema: Json): Json {
    let current = schema;
    for (let depth = 0; typeof current.$ref === 'string' && depth < 32; depth++) {
      const name = current.$ref.replace('#/components/schemas/', '');
      current = document.components?.schemas?.[name] ?? {};
    }
    return current;
  }

  private report(kind: string, at: string): void {
    this.changes.push(`${kind}: ${this.where} ${at}`);
  }
}

function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}
