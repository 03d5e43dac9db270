import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateEnvironment } from '../../apps/api/src/config/environment';
import { tracingSettings } from '../../apps/api/src/observability/tracing/tracing-settings';
import { exists, read, sourceOf, yamlDocuments } from '../support/deploy-files';
import { FIXTURE_MODELS } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

/** Peak RSS measured with scripts/measure-rss.ts (INFERENCE_WORKERS=2, 8 concurrent requests, TF.js model). */
const MEASURED_PEAK_RSS_MIB = 582;
const MEASURED_WORKERS = 2;

interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: unknown;
  tcpSocket?: unknown;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: Array<{ name: string; containerPort: number; protocol?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: Record<string, unknown>;
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const KINDS: Record<string, string> = {
  ConfigMap: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
};

const kustomization = parse(read('deploy/k8s/kustomization.yaml')) as { resources: string[] };
const resources = kustomization.resources.flatMap(
  (file) => yamlDocuments(`deploy/k8s/${file}`) as unknown as Resource[],
);
const only = (kind: string): Resource => {
  const found = resources.filter((resource) => resource.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
};
const configMap = only('ConfigMap');
const deployment = only('Deployment');
const podSpec = (deployment.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  initContainers: Container[];
  containers: Container[];
  volumes: Array<{ name: string }>;
};
const podLabels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template
  .metadata.labels;
const api = podSpec.containers.find((container) => container.name === 'api')!;

/** Kubernetes quantities: `512Mi`, `1Gi`, `500m`, `2`. */
function quantity(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(Mi|Gi|Ki|m)?$/.exec(value);
  if (!match) throw new Error(`Unknown quantity ${value}`);
  const scale = { Ki: 1 / 1024, Mi: 1, Gi: 1024, m: 0.001 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * scale;
}

describe('deploy/k8s manifests', () => {
  it('are the five resources with known apiVersions, names and labels', () => {
    expect(resources.map((resource) => resource.kind).sort()).toEqual(Object.keys(KINDS).sort());
    for (const resource of resources) {
      expect(resource.apiVersion, resource.kind).toBe(KINDS[resource.kind]);
      expect(resource.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(resource.metadata.labels?.['app.kubernetes.io/name']).toBe('food-vision-api');
    }
  });

  it('configure the app with values the app itself accepts', () => {
    expect(() => validateEnvironment(configMap.data!)).not.toThrow();
    const unknown = Object.keys(configMap.data!).filter(
      (key) => !(key in validateEnvironment({})) && key !== 'MODEL_DIR' && key !== 'MALLOC_ARENA_MAX',
    );
    // Read by glibc, not the app: two malloc arenas (docs/reliability.md).
    expect(configMap.data!.MALLOC_ARENA_MAX).toBe('2');
    expect(unknown, 'every ConfigMap key is a variable the app reads').toEqual([]);
    for (const container of [...podSpec.initContainers, ...podSpec.containers]) {
      expect(container.envFrom?.[0].configMapRef?.name).toBe(configMap.metadata.name);
    }
    expect(api.envFrom?.find((source) => source.secretRef)?.secretRef).toEqual({
      name: 'food-vision-api-keys',
      optional: true,
    });
  });

  it('name the pod in traces, and leave tracing off until a collector is named', () => {
    // Tracing is off with the shipped settings: nothing is sent to a collector nobody deployed.
    expect(tracingSettings({ ...configMap.data!, OTEL_RESOURCE_ATTRIBUTES: 'x=y' }).settings).toBeUndefined();
    const env = Object.fromEntries((api.env ?? []).map((entry) => [entry.name, entry]));
    expect(env.K8S_POD_NAME.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.K8S_NODE_NAME.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    // Kubernetes expands $(VAR) from variables defined before it in the same list.
    const names = (api.env ?? []).map((entry) => entry.name);
    expect(names.indexOf('OTEL_RESOURCE_ATTRIBUTES')).toBeGreaterThan(names.indexOf('K8S_NODE_NAME'));
    expect(env.OTEL_RESOURCE_ATTRIBUTES.value).toBe(
      'k8s.pod.name=$(K8S_POD_NAME),k8s.node.name=$(K8S_NODE_NAME)',
    );
  });

  it('wire selectors, ports and the autoscaler target to the Deployment', () => {
    const selector = (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector
      .matchLabels;
    expect(podLabels).toMatchObject(selector);
    const service = only('Service').spec as {
      selector: Record<string, string>;
      ports: Array<{ port: number; targetPort: string }>;
    };
    expect(podLabels).toMatchObject(service.selector);
    const http = api.ports!.find((port) => port.name === service.ports[0].targetPort);
    expect(http?.containerPort).toBe(Number(configMap.data!.PORT));
    const pdb = only('PodDisruptionBudget').spec as {
      selector: { matchLabels: Record<string, string> };
      minAvailable: number;
    };
    expect(podLabels).toMatchObject(pdb.selector.matchLabels);
    const hpa = only('HorizontalPodAutoscaler').spec as {
      scaleTargetRef: { apiVersion: string; kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: Array<{ type: string; resource: { name: string } }>;
    };
    expect(hpa.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.metrics.map((metric) => metric.resource.name)).toEqual(['cpu']);
    expect(hpa.minReplicas).toBeGreaterThan(pdb.minAvailable);
    expect(hpa.maxReplicas).toBeGreaterThanOrEqual(hpa.minReplicas);
    const annotations = (
      deployment.spec as { template: { metadata: { annotations: Record<string, string> } } }
    ).template.metadata.annotations;
    expect(annotations['prometheus.io/port']).toBe(configMap.data!.PORT);
  });

  it('give every probe one HTTP handler on a named container port', () => {
    for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
      const probe = api[kind];
      expect(probe?.httpGet, kind).toBeDefined();
      expect(probe?.exec ?? probe?.tcpSocket).toBeUndefined();
      expect(api.ports!.map((port) => port.name)).toContain(probe!.httpGet!.port);
      expect(probe!.timeoutSeconds!).toBeLessThanOrEqual(probe!.periodSeconds!);
    }
    expect(api.livenessProbe!.httpGet!.path).toBe('/health/live');
    expect(api.readinessProbe!.httpGet!.path).toBe('/health/ready');
    expect(api.startupProbe!.httpGet!.path).toBe('/health/live');
  });

  it('give the pod time to drain: grace period ≥ preStop sleep + SHUTDOWN_DRAIN_TIMEOUT_MS + hooks', () => {
    const preStop = api.lifecycle!.preStop!.exec!.command;
    expect(preStop[0]).toBe('sleep');
    const drainSeconds = Number(configMap.data!.SHUTDOWN_DRAIN_TIMEOUT_MS) / 1000;
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      Number(preStop[1]) + drainSeconds + 5,
    );
  });

  it('size memory from the measured peak and keep requests within limits', () => {
    for (const container of [...podSpec.initContainers, ...podSpec.containers]) {
      const { requests = {}, limits = {} } = container.resources ?? {};
      for (const resource of Object.keys(limits)) {
        expect(quantity(requests[resource]), `${container.name} ${resource}`).toBeLessThanOrEqual(
          quantity(limits[resource]),
        );
      }
    }
    const { requests, limits } = api.resources!;
    expect(quantity(requests!.memory)).toBeGreaterThanOrEqual(1.25 * MEASURED_PEAK_RSS_MIB);
    expect(quantity(limits!.memory)).toBeGreaterThanOrEqual(2 * MEASURED_PEAK_RSS_MIB);
    // Each worker holds its own model: the sizing above holds for the measured worker count, one per CPU of the limit.
    expect(Number(configMap.data!.INFERENCE_WORKERS)).toBe(MEASURED_WORKERS);
    expect(quantity(limits!.cpu)).toBe(MEASURED_WORKERS);
  });

  it('supply the model through a volume filled by an init container, never from the image', () => {
    const [fetch] = podSpec.initContainers;
    expect(fetch.image).toBe(api.image);
    expect(fetch.command).toEqual(['node', 'dist/apps/api/src/bin/fetch-model.js']);
    expect(exists(sourceOf(fetch.command![1]))).toBe(true);
    const volumeNames = podSpec.volumes.map((volume) => volume.name);
    for (const container of [fetch, api]) {
      for (const mount of container.volumeMounts ?? []) expect(volumeNames).toContain(mount.name);
    }
    const modelsMount = api.volumeMounts!.find((mount) =>
      configMap.data!.MODEL_DIR.startsWith(`${mount.mountPath}/`),
    );
    expect(modelsMount?.readOnly).toBe(true);
    expect(fetch.volumeMounts!.find((mount) => mount.name === modelsMount!.name)?.readOnly).toBeFalsy();
    expect(exists(configMap.data!.MODEL_MANIFEST)).toBe(true);
  });

  it('run as the image user, non-root, without privilege escalation', () => {
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    for (const container of [...podSpec.initContainers, ...podSpec.containers]) {
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
    }
  });
});

describe('every probe path and port exists in the app and the OpenAPI document', () => {
  let running: RunningApp;
  const spec = JSON.parse(read('openapi/openapi.json')) as {
    paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
  };
  const probePaths = [
    ...new Set(
      (['startupProbe', 'readinessProbe', 'livenessProbe'] as const).map((kind) => api[kind]!.httpGet!.path),
    ),
    '/metrics',
  ];

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
  });
  afterAll(async () => {
    await running?.close();
  });

  it.each(probePaths)('%s is a documented GET with a 200 response', (path) => {
    expect(spec.paths[path]?.get?.responses['200'], path).toBeDefined();
  });

  it.each(probePaths)('%s answers 200 on the served app once the model is ready', async (path) => {
    const response = await fetch(`${running.baseUrl}${path}`);
    expect(response.status).toBe(200);
  });
});
