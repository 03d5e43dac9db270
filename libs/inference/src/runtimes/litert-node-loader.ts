import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { Logger } from '@nestjs/common';

type LiteRtModule = typeof import('@litertjs/core');

let loading: Promise<LiteRtModule> | undefined;

/**
 * LiteRT.js ships a browser loader: it evaluates its Emscripten script with `importScripts` (workers) or a
 * `<script>` tag. In Node we give it the globals a worker would have, evaluating the script from the
 * package's `wasm/` folder, so the runtime loads from disk with no network.
 */
export function loadLiteRtForNode(): Promise<LiteRtModule> {
  loading ??= (async () => {
    const require = createRequire(__filename);
    const wasmDir = join(dirname(require.resolve('@litertjs/core/package.json')), 'wasm');
    const scope = globalThis as Record<string, unknown>;
    scope.self ??= globalThis;
    scope.importScripts ??= (file: string) => {
      runInThisContext(readFileSync(file, 'utf8'), { filename: file });
    };
    // The Emscripten script uses `require` and `__dirname` when it detects Node, to read the .wasm file.
    scope.require ??= require;
    scope.__dirname ??= wasmDir;
    scope.navigator ??= { hardwareConcurrency: availableParallelism() };
    // Emscripten's Module overrides: route the runtime's INFO chatter to debug logs.
    const logger = new Logger('LiteRT');
    // Only when debugging: the logger of a worker thread is not the app's and would print every level.
    const chatter = ['debug', 'verbose'].includes(process.env.LOG_LEVEL ?? '')
      ? (text: string) => logger.debug(text)
      : () => undefined;
    scope.Module = {
      print: chatter,
      printErr: chatter,
    };
    const liteRt = await import('@litertjs/core');
    // loadLiteRt always probes WebGPU, which Node lacks, and warns on the console; that warning is expected here.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!String(args[0]).startsWith('Failed to create default WebGPU device')) warn(...args);
    };
    try {
      await liteRt.loadLiteRt(`${wasmDir}/`);
    } finally {
      console.warn = warn;
    }
    return liteRt;
  })();
  return loading;
}
