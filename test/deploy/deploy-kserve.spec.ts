/**
 * deploy/kserve/ against KServe's own CRD schemas (../shared/specs/kserve-crds, the openAPIV3Schema of each kind),
 * validated as the API server does with strict field validation: unknown fields are errors too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { validateEnvironment } from '../../apps/api/src/config/environment';
import { parseServingFlags } from '../../apps/api/src/config/serving-flags';
import { read, ROOT } from '../support/deploy-files';
import { SHARED_DIR } from '../support/shared-data';

const CRD_DIR = join(SHARED_DIR, 'specs', 'kserve-crds');
const KSERVE_DIR = join(ROOT, 'deploy', 'kserve');

type Schema = Record<string, unknown>;

/** Kubernetes' strict field validation: an object schema that lists its properties admits no others. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Schema = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, strict(value)]));
  const properties = copy.properties as Schema | undefined;
  if (
    properties &&
    copy.additionalProperties === undefined &&
    !copy['x-kubernetes-preserve-unknown-fields']
  ) {
    copy.additionalProperties = false;
  }
  return copy;
}

function validators(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const byKind = new Map<string, ValidateFunction>();
  for (const file of readdirSync(CRD_DIR).filter((name) => name.endsWith('.yaml'))) {
    const crd = parse(readFileSync(join(CRD_DIR, file), 'utf8')) as {
      spec: {
        group: string;
        names: { kind: string };
        versions: Array<{ name: string; schema: { openAPIV3Schema: unknown } }>;
      };
    };
    for (const version of crd.spec.versions) {
      const key = `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
      byKind.set(key, ajv.compile(strict(version.schema.openAPIV3Schema) as Schema));
    }
  }
  return byKind;
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    predictor: Record<string, unknown> & {
      containerConcurrency?: number;
      autoScaling?: { metrics: Array<{ external: { metric: { backend: string; query: string } } }> };
    };
    containers: RuntimeContainer[];
    [field: string]: unknown;
  };
}

interface RuntimeContainer {
  args: string[];
  env: Array<{ name: string; value: string }>;
  readinessProbe: { httpGet: unknown };
  livenessProbe: { httpGet: unknown };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}

const manifests = readdirSync(KSERVE_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(KSERVE_DIR, file), 'utf8')).map((document) => ({
      file,
      manifest: document.toJS() as Manifest,
    })),
  );
const byName = (name: string) => manifests.find(({ manifest }) => manifest.metadata.name === name)!.manifest;

describe('deploy/kserve against the KServe CRD schemas', () => {
  const schemas = validators();

  it.each(manifests.map(({ file, manifest }) => [file, manifest] as const))(
    '%s validates against its CRD',
    (_file, manifest) => {
      const validate = schemas.get(`${manifest.apiVersion}/${manifest.kind}`);
      expect(validate, `${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
      const valid = validate!(manifest);
      expect(validate!.errors ?? [], JSON.stringify(validate!.errors, null, 2)).toEqual([]);
      expect(valid).toBe(true);
    },
  );

  it('catches what the API server would refuse: an unknown field, a wrong type', () => {
    const validate = schemas.get('serving.kserve.io/v1beta1/InferenceService')!;
    const isvc = structuredClone(byName('food101'));
    isvc.spec.predictor.containerConcurency = 16;
    expect(validate(isvc)).toBe(false);
    const wrongType = structuredClone(byName('food101'));
    wrongType.spec.predictor.minReplicas = 'one';
    expect(validate(wrongType)).toBe(false);
    const runtime = structuredClone(byName('food-vision-runtime'));
    runtime.spec.supportedModelFormats = [{ name: 'tflite', autoSelect: 'yes' }];
    expect(schemas.get('serving.kserve.io/v1alpha1/ClusterServingRuntime')!(runtime)).toBe(false);
  });
});

describe('deploy/kserve content', () => {
  const runtime = byName('food-vision-runtime');
  const [container] = runtime.spec.containers;

  it('names the formats and protocols the service serves, and passes the flags it reads', () => {
    expect(runtime.kind).toBe('ClusterServingRuntime');
    expect(
      (runtime.spec.supportedModelFormats as Array<{ name: string }>).map((format) => format.name),
    ).toEqual(['tflite', 'keras-h5', 'tfjs', 'onnx']);
    expect(runtime.spec.protocolVersions).toEqual(['v2', 'grpc-v2']);
    const args = container.args.map((arg) => arg.replace('{{.Name}}', 'food101'));
    const { flags, underKServe } = parseServingFlags(args);
    expect(underKServe).toBe(true);
    expect(flags).toEqual({
      model_name: 'food101',
      model_dir: '/mnt/models',
      http_port: 8080,
      grpc_port: 8081,
    });
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    expect(validateEnvironment(env).INFERENCE_WORKERS).toBe(2);
  });

  it('probes readiness on /v2/health/ready (not a TCP check) and liveness on /v2/health/live', () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 8080 });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 8080 });
    expect(runtime.spec.annotations).toMatchObject({
      'prometheus.kserve.io/port': '8080',
      'prometheus.kserve.io/path': '/metrics',
    });
  });

  it('requests more memory than the measured peak, a worker per CPU of the limit', () => {
    const mebibytes = (value: string) => Number(value.replace(/Mi$/, ''));
    expect(mebibytes(container.resources.requests.memory)).toBeGreaterThan(508);
    expect(Number(container.resources.limits.cpu)).toBe(2);
    expect(read('docs/deploy.md')).toContain('508 MiB');
  });

  it('scales Serverless on concurrency below containerConcurrency, and raw deployments with KEDA and HPA', () => {
    const serverless = byName('food101');
    expect(serverless.metadata.annotations).toMatchObject({
      'serving.kserve.io/deploymentMode': 'Serverless',
      'autoscaling.knative.dev/metric': 'concurrency',
    });
    const target = Number(serverless.metadata.annotations!['autoscaling.knative.dev/target']);
    expect(target).toBeLessThan(serverless.spec.predictor.containerConcurrency!);

    const keda = byName('food101-keda');
    expect(keda.metadata.annotations).toMatchObject({
      'serving.kserve.io/deploymentMode': 'RawDeployment',
      'serving.kserve.io/autoscalerClass': 'keda',
    });
    const [metric] = keda.spec.predictor.autoScaling!.metrics;
    expect(metric.external.metric.backend).toBe('prometheus');
    expect(metric.external.metric.query).toContain('food_vision_inference_queue_depth');
    // The gauge the query reads is one the service exports.
    expect(read('apps/api/src/data-plane/metrics/inference-queue-metrics.ts')).toContain(
      "'inference_queue_depth'",
    );

    const hpa = byName('food101-hpa');
    expect(hpa.metadata.annotations!['serving.kserve.io/autoscalerClass']).toBe('hpa');
    expect(hpa.spec.predictor).toMatchObject({ scaleMetric: 'cpu', scaleTarget: 70 });
  });
});
