import { ProblemError } from '@app/problem';
import { ModelLoadError } from '../manifest/model-load-error';

/**
 * An error as plain data, to cross a worker boundary: structured clone keeps neither the ProblemError class nor
 * its fields, so problems (bad image, too many pixels) are rebuilt on the main thread with their own code.
 */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  problem?: {
    status: number;
    code: string;
    title: string;
    detail: string;
    extensions: Record<string, unknown>;
  };
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof ProblemError) {
    const { status, code, title, detail, extensions } = error;
    return { name: error.name, message: error.message, problem: { status, code, title, detail, extensions } };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

export function deserializeError(serialized: SerializedError): Error {
  if (serialized.problem) {
    const { status, code, title, detail, extensions } = serialized.problem;
    return new ProblemError(status, code, title, detail, extensions);
  }
  const error =
    serialized.name === 'ModelLoadError'
      ? new ModelLoadError(serialized.message)
      : new Error(serialized.message);
  if (serialized.name !== 'ModelLoadError') error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}
