// The layout's rules, checked by test/architecture/boundaries.spec.ts (and `npm run boundaries`).
// docs/architecture.md draws the layers these rules keep.

/** libs/inference's folders, lowest first: a folder may import its own and lower ones, never a higher one. */
const INFERENCE_LAYERS = [
  'common',
  'manifest',
  'runtimes',
  'processing',
  'explain',
  'workers',
  'pull',
  'draft',
  'profile',
  'registry',
];

/** Which libraries each library may import (besides itself); apps may import any through its index.ts. */
const LIBRARY_IMPORTS = {
  problem: [],
  telemetry: [],
  imaging: ['problem'],
  'image-fetch': ['imaging', 'problem', 'telemetry'],
  keras: [],
  inference: ['imaging', 'keras', 'problem', 'telemetry'],
  sdk: [],
};

/**
 * apps/api: what the front-ends stand on. A front-end never imports another, and reaches the models and the image
 * intake only through the data plane: from the libraries below it takes types alone.
 */
const APP_FOUNDATION = [
  'common',
  'http',
  'problem',
  'config',
  'security',
  'lifecycle',
  'observability',
  'data-plane',
  'prediction-log',
  'jobs-engine',
];
const APP_FRONT_ENDS = [
  'predictions',
  'seed',
  'models',
  'open-inference',
  'grpc',
  'health',
  'demo',
  'monitor',
  'jobs',
];
/** The libraries a front-end reaches only through the data plane (their types are shared vocabulary). */
const DATA_PLANE_LIBRARIES = ['inference', 'image-fetch', 'imaging'];

/** Specs are white-box tests of several layers at once; the rules are for the code they test. */
const SPEC = '\\.spec\\.ts$';

const alt = (names) => `(${names.map((name) => name.replace(/[.-]/g, '\\$&')).join('|')})`;

const forbidden = [
  {
    name: 'no-circular',
    comment: 'Import cycles make load order matter and hide which side owns a concept.',
    severity: 'error',
    from: {},
    to: { circular: true, dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'libs-not-to-apps',
    comment: 'Libraries never import the app.',
    severity: 'error',
    from: { path: '^libs/' },
    to: { path: '^apps/' },
  },
  ...Object.entries(LIBRARY_IMPORTS).map(([lib, allowed]) => ({
    name: `lib-${lib}-imports`,
    comment: `libs/${lib} may import only ${allowed.length ? allowed.join(', ') : 'no other library'}.`,
    severity: 'error',
    from: { path: `^libs/${alt([lib])}/` },
    to: {
      path: '^libs/[^/]+/',
      pathNot: [`^libs/${alt([lib])}/`, ...allowed.map((other) => `^libs/${alt([other])}/`)],
    },
  })),
  {
    name: 'through-the-index',
    comment: 'The app and the scripts import a library through its index.ts (@app/<lib>), never its files.',
    severity: 'error',
    from: { path: '^(apps|scripts)/' },
    to: { path: '^libs/[^/]+/src/', pathNot: ['^libs/[^/]+/src/index\\.ts$'] },
  },
  {
    name: 'through-the-other-index',
    comment: "A library imports another through that one's index.ts.",
    severity: 'error',
    from: { path: '^libs/([^/]+)/', pathNot: [SPEC] },
    to: { path: '^libs/[^/]+/src/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
  },
  ...INFERENCE_LAYERS.slice(0, -1).map((layer, index) => ({
    name: `inference-${layer}-not-upward`,
    comment: `libs/inference/src/${layer} sits below ${INFERENCE_LAYERS.slice(index + 1).join(', ')}.`,
    severity: 'error',
    from: { path: `^libs/inference/src/${alt([layer])}/`, pathNot: [SPEC] },
    to: { path: `^libs/inference/src/(${alt(INFERENCE_LAYERS.slice(index + 1))}/|[^/]+\\.ts$)` },
  })),
  {
    name: 'inference-registry-only-options',
    comment: 'Of the top-level files, a folder may import only the module options.',
    severity: 'error',
    from: { path: '^libs/inference/src/[^/]+/', pathNot: [SPEC] },
    to: {
      path: '^libs/inference/src/[^/]+\\.ts$',
      pathNot: ['^libs/inference/src/inference\\.options\\.ts$'],
    },
  },
  {
    name: 'app-foundation-not-to-front-ends',
    comment: 'The foundation folders and the data plane know nothing of the routes above them.',
    severity: 'error',
    from: { path: `^apps/api/src/${alt(APP_FOUNDATION)}/`, pathNot: [SPEC] },
    to: { path: `^apps/api/src/(${alt([...APP_FRONT_ENDS, 'openapi', 'bin'])}/|[^/]+\\.ts$)` },
  },
  ...APP_FRONT_ENDS.map((frontEnd) => ({
    name: `front-end-${frontEnd}-alone`,
    comment: `apps/api/src/${frontEnd} imports no other front-end.`,
    severity: 'error',
    from: { path: `^apps/api/src/${alt([frontEnd])}/`, pathNot: [SPEC] },
    to: { path: `^apps/api/src/${alt(APP_FRONT_ENDS.filter((other) => other !== frontEnd))}/` },
  })),
  {
    name: 'front-ends-through-the-data-plane',
    comment:
      'A front-end translates its wire format to and from the data plane: it never calls the model registry, the classifier or the image intake itself (types only).',
    severity: 'error',
    from: { path: `^apps/api/src/${alt(APP_FRONT_ENDS)}/`, pathNot: [SPEC] },
    to: { path: `^libs/${alt(DATA_PLANE_LIBRARIES)}/`, dependencyTypesNot: ['type-only'] },
  },
];

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|generated)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
