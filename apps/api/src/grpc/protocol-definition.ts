import { type GrpcObject, loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { join } from 'node:path';

/** The official .proto files, committed unchanged (proto/README.md says where from). */
export const PROTO_DIR = join(__dirname, 'proto');
export const PROTO_FILES = ['open_inference_grpc.proto', 'health.proto'];

/** Field names as in the proto (`model_name`), 64-bit integers as numbers (shapes, parameters). */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export interface ProtocolDefinition {
  packageDefinition: PackageDefinition;
  inference: ServiceDefinition;
  health: ServiceDefinition;
}

/** Loads both services from the .proto files. */
export function loadProtocolDefinition(): ProtocolDefinition {
  const packageDefinition = loadSync(
    PROTO_FILES.map((file) => join(PROTO_DIR, file)),
    PROTO_LOADER_OPTIONS,
  );
  const root = loadPackageDefinition(packageDefinition);
  const service = (path: string[]): ServiceDefinition => {
    let node: unknown = root;
    for (const part of path) node = (node as GrpcObject)[part];
    return (node as { service: ServiceDefinition }).service;
  };
  return {
    packageDefinition,
    inference: service(['inference', 'GRPCInferenceService']),
    health: service(['grpc', 'health', 'v1', 'Health']),
  };
}
