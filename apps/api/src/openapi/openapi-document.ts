import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { MULTIPART_SCHEMA_EXTENSION } from '../predictions/api-multipart-body.decorator';
import { API_VERSION } from '../common/api-version';
import { applySecurityDocs } from '../security/security-openapi';
import { applyV2Schemas } from '../open-inference/dto/v2-tensor-data.schema';
import { applySeedPaths } from '../seed/seed-openapi';
import { applyJobBodies } from '../jobs/jobs-openapi';


const DESCRIPTION = `Classifies food photos into the 101 Food-101 classes. [Try it in your browser at /demo](/demo).

- \`POST /v1/predictions\`: a photo as a URL, a base64 string or an upload; answers the top-k classes.
- \`POST /net/image/prediction/?image_link=\`: the original FastAPI service's route, unchanged for existing clients.
- \`POST /v1/jobs\`: a whole photo library (URLs, JSONL or an archive) classified in the background; results as JSON Lines.
- \`GET /v1/models\`: what is served, on which engine.
- \`GET /health/live\`, \`GET /health/ready\`: probes.
- \`GET /demo\`: a page to classify a photo from a file, the camera, the clipboard or a URL.
- \`GET /monitor\`: a page that charts what each model answered lately against its reference (\`GET /v1/monitoring\`).
- \`/v2/...\`: the Open Inference Protocol (KServe V2) for KServe, Triton clients and Seldon tooling; its errors are \`{"error": "..."}\`.

Every other error is an RFC 9457 problem (\`application/problem+json\`) with a stable \`code\`.`;

/** The OpenAPI document, generated from the controllers and DTOs; `npm run openapi` commits it. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Food Vision API')
    .setDescription(DESCRIPTION)
    .setVersion(API_VERSION)
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addTag('predictions', 'Classify photos')
    .addTag('jobs', 'Bulk jobs: a photo library classified in the background')
    .addTag('models', 'What is served')
    .addTag('health', 'Probes for Kubernetes and Heroku')
    .addTag('observability', 'Prometheus metrics')
    .addTag('seed-compatible', 'The original FastAPI routes')
    .addTag('open-inference-protocol', 'KServe V2 / Open Inference Protocol REST API')
    .addTag('demo', 'A try-it page for people')
    .addTag('monitoring', 'A page that watches the models’ answers')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
  return applyJobBodies(applySeedPaths(applySecurityDocs(applyV2Schemas(applyMultipartSchemas(document)))));
}

/** Points each multipart/form-data body at the schema `ApiJsonOrMultipartBody` named. */
function applyMultipartSchemas(document: OpenAPIObject): OpenAPIObject {
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of [pathItem.get, pathItem.post, pathItem.put, pathItem.patch]) {
      const extensions = operation as unknown as Record<string, unknown> | undefined;
      const schemaName = extensions?.[MULTIPART_SCHEMA_EXTENSION];
      if (!operation || typeof schemaName !== 'string') continue;
      delete extensions![MULTIPART_SCHEMA_EXTENSION];
      const body = operation.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined;
      const multipart = body?.content?.['multipart/form-data'];
      if (multipart) multipart.schema = { $ref: `#/components/schemas/${schemaName}` };
    }
  }
  return document;
}

export function setupSwaggerUi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'Food Vision API',
  });
}
