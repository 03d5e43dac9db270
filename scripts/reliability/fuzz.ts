/**
 * The protocol fuzz suite (test/e2e/protocol-fuzz.e2e-spec.ts) run as long as asked (not part of CI, which runs it
 * short and seeded). It runs under vitest, whose transform keeps the decorator metadata Nest needs:
 *
 *   npm run fuzz -- [--runs 2000] [--seed <n>, default random]
 *
 * Fails with fast-check's counterexample and its seed (to replay) when any answer is 5xx, late or misshapen.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '1000' }, seed: { type: 'string' } },
});
const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
const root = join(__dirname, '..', '..');
console.log(`Fuzzing: ${values.runs} runs per property, seed ${seed}.`);
const result = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/e2e/protocol-fuzz.e2e-spec.ts'],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FUZZ_RUNS: values.runs, FUZZ_SEED: seed } },
);
process.exitCode = result.status ?? 1;
