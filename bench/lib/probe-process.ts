/**
 * Runs a liveness probe in its own process, as kubelet would: inside the bench process, the probe would wait
 * behind the load generator's own event loop and measure that instead of the server.
 *
 *   node --require tsx/cjs probe-process.ts <url> <seconds>   → prints the LoadResult as JSON
 */
import { probeLoad } from './load';

const [url, seconds] = process.argv.slice(2);
probeLoad(url, Number(seconds)).then(
  (result) => process.stdout.write(JSON.stringify(result)),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
