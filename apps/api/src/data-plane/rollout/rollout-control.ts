import { Injectable } from '@nestjs/common';
import { ModelRegistry, parseRolloutPolicy } from '@app/inference';
import { invalidField } from '@app/problem';
import { RolloutMonitor, type RolloutReport } from './rollout-monitor';

/** The rollout API's operations: set a policy, promote, roll back, report. Changes never drop a request. */
@Injectable()
export class RolloutControl {
  constructor(
    private readonly models: ModelRegistry,
    private readonly monitor: RolloutMonitor,
  ) {}

  report(name: string): RolloutReport {
    return this.monitor.report(name);
  }

  async set(name: string, body: Record<string, unknown>): Promise<RolloutReport> {
    let policy;
    try {
      // The stable version is the service's to say (promotion changes it); a body's is ignored.
      const { stable: _ignored, previous_stable: _too, ...rest } = body;
      policy = parseRolloutPolicy(rest, 'The rollout');
    } catch (error) {
      throw invalidField('body', error instanceof Error ? error.message : String(error));
    }
    await this.models.setRollout(name, policy);
    return this.report(name);
  }

  async promote(name: string): Promise<RolloutReport> {
    await this.models.promote(name);
    return this.report(name);
  }

  async rollback(name: string): Promise<RolloutReport> {
    const candidate = this.models.candidateVersion(name);
    await this.models.rollback(name);
    this.monitor.noteManualRollback(name, candidate);
    return this.report(name);
  }
}
