import { describe, expect, it } from 'vitest';
import { ContractViolation, OpenApiContract } from './contract';

const contract = new OpenApiContract({
  paths: {
    '/things/{id}': {
      get: {
        operationId: 'getThing',
        responses: {
          '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
          '404': {
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        },
      },
    },
    '/things/live': { get: { operationId: 'thingsLive', responses: { '200': {} } } },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        required: ['id', 'tags'],
        properties: {
          id: { type: 'integer' },
          tags: { type: 'array', items: { $ref: '#/components/schemas/Tag' } },
        },
      },
      Tag: { type: 'string', enum: ['a', 'b'] },
      Problem: { type: 'object', required: ['code'], properties: { code: { type: 'string' } } },
    },
  },
});

const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': `${type}; charset=utf-8` } });
const check = (path: string, response: Response) =>
  contract.check('GET', `http://127.0.0.1${path}`, response);

describe('the OpenAPI contract check', () => {
  it('accepts a response that matches, following $refs into the components', async () => {
    await expect(check('/things/7', json({ id: 7, tags: ['a', 'b'] }))).resolves.toBeUndefined();
    await expect(
      check('/things/7', json({ code: 'x' }, 404, 'application/problem+json')),
    ).resolves.toBeUndefined();
    expect([...contract.exercised]).toEqual(['getThing']);
  });

  it('prefers a literal path over a template, and accepts an empty body where none is declared', async () => {
    await expect(check('/things/live', new Response(null, { status: 200 }))).resolves.toBeUndefined();
    expect(contract.exercised.has('thingsLive')).toBe(true);
  });

  it('refuses a body that does not match its schema, naming the field', async () => {
    await expect(check('/things/7', json({ id: '7', tags: ['c'] }))).rejects.toThrow(
      /\/id must be integer.*\/tags\/0/,
    );
  });

  it('refuses a status the document does not declare', async () => {
    await expect(check('/things/7', json({ code: 'x' }, 500, 'application/problem+json'))).rejects.toThrow(
      /status 500 is not declared for getThing/,
    );
  });

  it('refuses a content type the document does not declare', async () => {
    await expect(check('/things/7', json({ code: 'x' }, 404, 'application/json'))).rejects.toThrow(
      /content type "application\/json" is not declared/,
    );
  });

  it('refuses a path or method the document does not have, and a body where none is declared', async () => {
    await expect(check('/other', json({}))).rejects.toThrow(ContractViolation);
    await expect(contract.check('POST', 'http://127.0.0.1/things/7', json({}))).rejects.toThrow(
      /no operation/,
    );
    await expect(check('/things/live', new Response('x', { status: 200 }))).rejects.toThrow(
      /declares no body/,
    );
  });
});
