// `npm run sdk`: the typed fetch client in libs/sdk/src/generated, from the committed openapi/openapi.json.
// test/sdk-generated.e2e-spec.ts regenerates it into a temporary folder and fails when the committed copy differs.
import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: './openapi/openapi.json',
  output: { path: './libs/sdk/src/generated' },
  plugins: [
    '@hey-api/client-fetch',
    '@hey-api/typescript',
    // One class, `new FoodVisionApi({ client })`, whose methods are the operationIds (predict, listModels...).
    {
      name: '@hey-api/sdk',
      operations: { strategy: 'single', containerName: 'FoodVisionApi', methods: 'instance' },
    },
  ],
});
