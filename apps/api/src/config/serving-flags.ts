import { parseArgs } from 'node:util';
import { ConfigurationError } from './environment';

/** The command-line flags KServe's model servers take (kserve/python/kserve/kserve/model_server.py). */
export interface ServingFlags {
  model_name?: string;
  model_dir?: string;
  http_port?: number;
  grpc_port?: number;
}

/** What a ServingRuntime's `args` usually leave out: KServe's own defaults. */
export const KSERVE_DEFAULTS = { model_dir: '/mnt/models', http_port: 8080, grpc_port: 8081 } as const;

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function port(flag: string, value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65535) {
    throw new ConfigurationError(
      `Invalid command line: --${flag}=${JSON.stringify(value)}: a port is an integer from 0 to 65535.`,
    );
  }
  return number;
}

/**
 * Reads `--model_name`, `--model_dir`, `--http_port`, `--grpc_port` (as `--flag=value` or `--flag value`).
 * Any of them means the process runs under KServe (or as KServe runs it); none keeps the plain defaults
 * (`npm start`, Heroku). An unknown flag or a bad value throws a ConfigurationError naming it.
 */
export function parseServingFlags(argv: readonly string[]): { flags: ServingFlags; underKServe: boolean } {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        model_name: { type: 'string' },
        model_dir: { type: 'string' },
        http_port: { type: 'string' },
        grpc_port: { type: 'string' },
      },
    }) as { values: Record<string, string | undefined> });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ConfigurationError(
      `Invalid command line: ${why} (this server takes --model_name, --model_dir, --http_port and --grpc_port).`,
    );
  }
  const flags: ServingFlags = {};
  if (values.model_name !== undefined) {
    if (!NAME.test(values.model_name)) {
      throw new ConfigurationError(
        `Invalid command line: --model_name=${JSON.stringify(values.model_name)}: a model name is 1 to 64 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit.`,
      );
    }
    flags.model_name = values.model_name;
  }
  if (values.model_dir !== undefined) {
    if (values.model_dir.trim() === '') {
      throw new ConfigurationError('Invalid command line: --model_dir is empty: give the model folder.');
    }
    flags.model_dir = values.model_dir;
  }
  if (values.http_port !== undefined) flags.http_port = port('http_port', values.http_port);
  if (values.grpc_port !== undefined) flags.grpc_port = port('grpc_port', values.grpc_port);
  return { flags, underKServe: Object.keys(flags).length > 0 };
}
