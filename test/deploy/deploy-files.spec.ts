import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateEnvironment } from '../../apps/api/src/config/environment';
import { livenessUrl } from '../../apps/api/src/bin/healthcheck';
import { TURBOJPEG_LIBRARY } from '@app/imaging';
import {
  builtEntrypoint,
  dockerignoreMatcher,
  dockerInstructions,
  execForm,
  exists,
  read,
  sourceOf,
  type Instruction,
} from '../support/deploy-files';

const DOCKERFILE = 'docker/Dockerfile';
const instructions = dockerInstructions(read(DOCKERFILE));
const finalStage = Math.max(...instructions.map((instruction) => instruction.stage));
const inStage = (stage: number, keyword: string): Instruction[] =>
  instructions.filter((instruction) => instruction.stage === stage && instruction.keyword === keyword);
const ignored = dockerignoreMatcher(read('.dockerignore'));
const WEIGHT_FILE = /\.(h5|keras|tflite|onnx|bin|pb)$/;

/** `KEY=value` pairs of ENV instructions (the `KEY=value ...` form). */
function envOf(stage: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of inStage(stage, 'ENV')) {
    for (const [, key, value] of args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g))
      env[key] = value.replace(/^"|"$/g, '');
  }
  return env;
}

/** Sources of a COPY/ADD instruction (everything but flags and the destination). */
function copySources(args: string): { from?: string; sources: string[] } {
  const words = args.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((word) => !word.startsWith('--'));
  return { from, sources: paths.slice(0, -1) };
}

describe('docker/Dockerfile', () => {
  it('builds with dev dependencies, then runs from a stage with production dependencies only', () => {
    const stages = instructions
      .filter((instruction) => instruction.keyword === 'FROM')
      .map(({ args }) => args);
    expect(stages).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS run']);
    const build = instructions.filter(
      (instruction) => instruction.stage === 0 && instruction.keyword === 'RUN',
    );
    const buildCommands = build.map(({ args }) => args).join('\n');
    expect(buildCommands).toMatch(/npm ci\b(?![^\n]*--omit=dev)/);
    expect(buildCommands).toContain('npm run build');
    expect(buildCommands).toMatch(/npm prune --omit=dev/);
    // The run stage installs nothing: it copies the pruned node_modules and the compiled dist/.
    expect(
      inStage(finalStage, 'RUN')
        .map(({ args }) => args)
        .join('\n'),
    ).not.toMatch(/npm (ci|install)/);
    const fromBuild = inStage(finalStage, 'COPY')
      .map(({ args }) => copySources(args))
      .filter(({ from }) => from === 'build')
      .flatMap(({ sources }) => sources);
    expect(fromBuild).toEqual(expect.arrayContaining(['/app/node_modules', '/app/dist']));
  });

  it('pins a Node.js LTS base image that satisfies package.json engines', () => {
    const arg = instructions.find(({ keyword, args }) => keyword === 'ARG' && args.startsWith('NODE_IMAGE='));
    const image = arg!.args.slice('NODE_IMAGE='.length);
    const match = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm|trixie)-slim$/.exec(image);
    expect(match, image).not.toBeNull();
    const major = Number(match![1]);
    expect(major % 2, 'even majors are the LTS lines').toBe(0);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(major).toBeGreaterThanOrEqual(Number(/>=\s*(\d+)/.exec(engines)![1]));
  });

  it('tries the tfjs-node native backend and falls back to WASM when the build cannot get it', () => {
    const rebuild = inStage(0, 'RUN').find(({ args }) => args.includes('@tensorflow/tfjs-node'));
    expect(rebuild?.args).toMatch(
      /npm rebuild @tensorflow\/tfjs-node .*\|\| echo "tfjs-node unavailable, WASM fallback"/,
    );
  });

  it('installs libturbojpeg0 in the run stage: the library the JPEG decoder loads', () => {
    const install = inStage(finalStage, 'RUN').find(({ args }) => args.includes('apt-get install'));
    expect(install?.args).toMatch(/apt-get install -y --no-install-recommends libturbojpeg0\b/);
    expect(install?.args).toContain('rm -rf /var/lib/apt/lists/*');
    // Debian's libturbojpeg0 ships exactly this soname.
    expect(TURBOJPEG_LIBRARY).toBe('libturbojpeg.so.0');
  });

  it('runs as a non-root user with NODE_ENV=production, PORT honoured and the model directory as a volume', () => {
    const user = inStage(finalStage, 'USER');
    expect(user).toHaveLength(1);
    expect(user[0].args).not.toMatch(/^(root|0)(:|$)/);
    const env = envOf(finalStage);
    expect(env.NODE_ENV).toBe('production');
    // Two glibc malloc arenas: a lower, flat RSS under mixed image sizes (docs/reliability.md).
    expect(env.MALLOC_ARENA_MAX).toBe('2');
    expect(() => validateEnvironment(env)).not.toThrow();
    expect(inStage(finalStage, 'EXPOSE').map(({ args }) => args)).toEqual([env.PORT]);
    const volumes = inStage(finalStage, 'VOLUME').flatMap(({ args }) => execForm(args));
    expect(volumes.some((volume) => env.MODEL_DIR.startsWith(`${volume}/`))).toBe(true);
    expect(exists(env.MODEL_MANIFEST)).toBe(true);
  });

  it('copies only files that exist, are not ignored, and are never model weights', () => {
    const local = instructions
      .filter(({ keyword }) => keyword === 'COPY' || keyword === 'ADD')
      .map(({ args }) => copySources(args))
      .filter(({ from }) => from === undefined)
      .flatMap(({ sources }) => sources);
    expect(local.length).toBeGreaterThanOrEqual(5);
    for (const source of local) {
      expect(source, 'inside the build context').not.toMatch(/(^|\/)\.\.(\/|$)/);
      expect(exists(source), `${source} exists`).toBe(true);
      expect(ignored(source), `${source} is not excluded by .dockerignore`).toBe(false);
      expect(source).not.toMatch(WEIGHT_FILE);
      if (source.startsWith('model-artifacts')) expect(source).toMatch(/\/manifest\.json$/);
    }
    expect(instructions.some(({ keyword }) => keyword === 'ADD')).toBe(false);
  });

  it('starts the file `npm run build` produces', () => {
    expect((JSON.parse(read('package.json')) as { scripts: { build: string } }).scripts.build).toBe(
      'nest build api',
    );
    const entry = builtEntrypoint();
    expect(entry).toBe('dist/apps/api/src/main.js');
    expect(execForm(inStage(finalStage, 'CMD')[0].args)).toEqual(['node', entry]);
    expect(exists(sourceOf(entry))).toBe(true);
  });

  it('health-checks the liveness route with a compiled node script (no curl in the slim image)', () => {
    const healthcheck = inStage(finalStage, 'HEALTHCHECK')[0].args;
    const command = execForm(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim());
    expect(command[0]).toBe('node');
    expect(command[1]).toMatch(/^dist\/apps\/api\/src\/bin\/healthcheck\.js$/);
    expect(exists(sourceOf(command[1]))).toBe(true);
    const url = new URL(livenessUrl(envOf(finalStage)));
    expect(url.pathname).toBe('/health/live');
    expect(url.port).toBe(envOf(finalStage).PORT);
    expect(url.hostname).toBe('127.0.0.1');
    expect(new URL(livenessUrl({ PORT: '8080' })).port).toBe('8080');
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, git data, secrets and model weights out of the build context', () => {
    for (const path of [
      'node_modules/x/index.js',
      'libs/inference/node_modules/y.js',
      'dist/apps/api/src/main.js',
      '.git/HEAD',
      '.env',
      'test/fixtures/models/a/manifest.json',
      'model-artifacts/food-vision-efficientnetb0/food-vision-model.h5',
      'model-artifacts/m/1/model.tflite',
      'model-artifacts/m/group1-shard1of1.bin',
      'model-artifacts/m/model.onnx',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
    expect(ignored('model-artifacts/food-vision-efficientnetb0/manifest.json')).toBe(false);
    expect(ignored('apps/api/src/main.ts')).toBe(false);
  });
});

describe('docker/compose.yaml', () => {
  const compose = parse(read('docker/compose.yaml'), { merge: true }) as {
    services: Record<
      string,
      {
        build: { context: string; dockerfile: string };
        command?: string[];
        volumes: string[];
        ports?: string[];
        environment?: Record<string, string>;
        healthcheck?: { test: string[] };
        stop_grace_period?: string;
        depends_on?: Record<string, { condition: string }>;
      }
    >;
  };
  const { api, model } = compose.services;

  it('builds docker/Dockerfile from the repository root for both services', () => {
    for (const service of [api, model]) {
      expect(service.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    }
  });

  it('fetches the model into a volume first, then mounts it read-only at MODEL_DIR', () => {
    expect(model.command).toEqual(['node', 'dist/apps/api/src/bin/fetch-model.js']);
    expect(exists(sourceOf(model.command![1]))).toBe(true);
    expect(api.depends_on?.model.condition).toBe('service_completed_successfully');
    const modelDir = envOf(finalStage).MODEL_DIR;
    expect(model.volumes).toEqual(['models:/models']);
    expect(api.volumes).toEqual(['models:/models:ro']);
    expect(modelDir.startsWith('/models/')).toBe(true);
  });

  it('publishes PORT on localhost only, health-checks with the image script, and waits for the drain on stop', () => {
    const env = { ...envOf(finalStage), ...api.environment };
    expect(() => validateEnvironment(env)).not.toThrow();
    expect(api.ports).toEqual([`127.0.0.1:${env.PORT}:${env.PORT}`]);
    expect(api.healthcheck?.test).toEqual(['CMD', 'node', 'dist/apps/api/src/bin/healthcheck.js']);
    const graceSeconds = Number(/^(\d+)s$/.exec(api.stop_grace_period ?? '')?.[1]);
    expect(graceSeconds * 1000).toBeGreaterThan(Number(env.SHUTDOWN_DRAIN_TIMEOUT_MS));
  });
});

describe('Heroku', () => {
  const startCommand = `exec node ${builtEntrypoint()}`;

  it('heroku.yml builds the Dockerfile and starts the built entrypoint after fetching the model', () => {
    const heroku = parse(read('heroku.yml')) as { build: { docker: { web: string } }; run: { web: string } };
    expect(heroku.build.docker.web).toBe(DOCKERFILE);
    expect(heroku.run.web).toMatch(/node dist\/apps\/api\/src\/bin\/fetch-model\.js && /);
    expect(heroku.run.web.endsWith(startCommand)).toBe(true);
    // The model goes to /tmp: dynos run as an arbitrary non-root user.
    expect(heroku.run.web).toMatch(/MODEL_DIR=\/tmp\//);
    // A dyno sees the host's CPUs: one worker unless the INFERENCE_WORKERS config var says otherwise.
    expect(heroku.run.web).toContain('INFERENCE_WORKERS=${INFERENCE_WORKERS:-1}');
    // $PORT comes from Heroku and the server reads PORT; nothing may pin another port.
    expect(heroku.run.web).not.toMatch(/PORT=/);
  });

  it('the Procfile (Node.js buildpack, which runs `npm run build`) starts the same entrypoint', () => {
    const lines = read('Procfile').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^web: export INFERENCE_WORKERS=\$\{INFERENCE_WORKERS:-1\} MALLOC_ARENA_MAX=\$\{MALLOC_ARENA_MAX:-2\} && node dist\/apps\/api\/src\/bin\/fetch-model\.js && /,
    );
    expect(lines[0].endsWith(startCommand)).toBe(true);
  });
});

describe('docs/deploy.md', () => {
  const documentation = read('docs/deploy.md');
  const commands = [...documentation.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, block]) => block).join('\n');

  it('runs only files that exist (compiled ones from their sources)', () => {
    const paths = [...commands.matchAll(/(?:^|\s|=)((?:docker|deploy|dist)\/[\w./-]+)/gm)].map(
      ([, path]) => path,
    );
    expect(paths.length).toBeGreaterThanOrEqual(5);
    for (const path of paths) {
      const file = path.startsWith('dist/') ? sourceOf(path) : path;
      expect(exists(file), path).toBe(true);
    }
  });

  it('builds, runs and applies with the same commands the files describe', () => {
    expect(commands).toContain(`docker build -f ${DOCKERFILE} -t food-vision-api .`);
    expect(commands).toContain('docker compose -f docker/compose.yaml up --build');
    expect(commands).toContain('kubectl apply -k deploy/k8s');
    expect(commands).toContain('heroku stack:set container');
    expect(read(DOCKERFILE)).toContain('docker build -f docker/Dockerfile -t food-vision-api .');
    expect(read('docker/compose.yaml')).toContain('docker compose -f docker/compose.yaml up --build');
    expect(read('deploy/k8s/kustomization.yaml')).toContain('kubectl apply -k deploy/k8s');
    expect(read('heroku.yml')).toContain('heroku stack:set container');
  });
});
