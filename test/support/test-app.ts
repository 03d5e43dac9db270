import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ModelRegistry } from '@app/inference';
import { createApp } from '../../apps/api/src/app.factory';
import type { FixtureModel } from './shared-data';

export interface RunningApp {
  app: NestExpressApplication;
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the real app on 127.0.0.1 on a free port, serving `model`, and waits until the model has loaded
 * (unless `waitForModel` is false). `env` adds or overrides variables.
 */
export async function startTestApp(
  model: FixtureModel,
  env: Record<string, string> = {},
  { waitForModel = true } = {},
): Promise<RunningApp> {
  // Each app its own jobs database: never a developer's data/jobs, never another test's.
  const jobsDir = env.JOBS_DIR === undefined ? mkdtempSync(join(tmpdir(), 'test-app-jobs-')) : undefined;
  const app = await createApp(
    {
      HOST: '127.0.0.1',
      PORT: '0',
      MODEL_MANIFEST: model.manifest,
      MODEL_DIR: model.dir,
      IMAGE_FETCH_ALLOW_HOSTS: '127.0.0.1',
      ...(jobsDir ? { JOBS_DIR: jobsDir } : {}),
      ...env,
    },
    { logger: false },
  );
  await app.listen(0, '127.0.0.1');
  if (waitForModel) {
    const state = await app.get(ModelRegistry).load();
    if (state.status !== 'ready') throw new Error(`The test model did not load: ${JSON.stringify(state)}`);
  }
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await app.close();
      if (jobsDir) rmSync(jobsDir, { recursive: true, force: true });
    },
  };
}
