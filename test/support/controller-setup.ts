import type { INestApplication, Provider, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ProblemDetailsFilter } from '../../apps/api/src/problem/problem-details.filter';

export interface ControllerApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** GET a path: its status, headers and body (JSON when the answer says so, else text). */
  get(path: string): Promise<{ status: number; headers: Headers; body: unknown }>;
  close(): Promise<void>;
}

/**
 * Controllers over the providers a spec gives (stubs or real services), with the app's problem+json filter and a
 * ConfigService of `config`, listening on 127.0.0.1: the routing, validation and answers of a front-end in
 * milliseconds, without a model or ../shared (immich's controllerSetup).
 */
export async function controllerSetup(
  controllers: Type[],
  providers: Provider[],
  config: Record<string, unknown> = {},
): Promise<ControllerApp> {
  const module = await Test.createTestingModule({
    controllers,
    providers: [
      { provide: ConfigService, useValue: { get: (key: string) => config[key] } },
      { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ...providers,
    ],
  }).compile();
  const app = module.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  return {
    app,
    base,
    get: async (path) => {
      const response = await fetch(`${base}${path}`);
      const text = await response.text();
      const json = /json/.test(response.headers.get('content-type') ?? '');
      return {
        status: response.status,
        headers: response.headers,
        body: json ? (JSON.parse(text) as unknown) : text,
      };
    },
    close: () => app.close(),
  };
}
