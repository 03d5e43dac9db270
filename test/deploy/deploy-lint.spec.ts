import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/deploy-files';

/** Linters from Debian that CI may install (`apt-get install yamllint`); hadolint and kubeconform are not packaged. */
const hasYamllint = spawnSync('yamllint', ['--version']).status === 0;

describe('deployment YAML lint', () => {
  // Under CI a missing yamllint is a failure (.ci/run installs it), not a skip that would hide the lint.
  it.skipIf(!hasYamllint && process.env.CI !== 'true')(
    'passes yamllint (compose, Kubernetes, Heroku)',
    () => {
      expect(hasYamllint, 'yamllint is not installed: apt-get install yamllint').toBe(true);
      const output = execFileSync(
        'yamllint',
        ['-s', '-f', 'parsable', '-c', 'deploy/yamllint.yaml', 'docker', 'deploy', 'heroku.yml'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(output).toBe('');
    },
  );
});
