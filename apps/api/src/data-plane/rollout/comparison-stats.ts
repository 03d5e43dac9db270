/** Which traffic a comparison came from: a canary's candidate answers, or stable answers mirrored (shadow). */
export type Traffic = 'canary' | 'shadow';

/** One version's runs during a rollout: answers, failures (5xx) and abstentions. */
export interface VersionRuns {
  runs: number;
  errors: number;
  abstentions: number;
}

/** What the two versions did with the same images, for one kind of traffic. */
export interface TrafficComparison {
  compared: number;
  agreed: number;
  /** Sum of |stable top-1 probability − candidate top-1 probability|. */
  confidenceDelta: number;
  /** `stable class → candidate class` → how often. */
  disagreements: Map<string, number>;
}

/** Everything measured for one (stable, candidate) pair since it began. */
export class ComparisonStats {
  readonly since = new Date();
  readonly traffic: Record<Traffic, TrafficComparison> = {
    canary: emptyComparison(),
    shadow: emptyComparison(),
  };
  readonly stable: VersionRuns = { runs: 0, errors: 0, abstentions: 0 };
  readonly candidate: VersionRuns = { runs: 0, errors: 0, abstentions: 0 };
  shed = 0;

  constructor(
    readonly stableVersion: string,
    readonly candidateVersion: string,
  ) {}

  compare(traffic: Traffic, stable: { label: string; confidence: number }, candidate: typeof stable): void {
    const comparison = this.traffic[traffic];
    comparison.compared++;
    comparison.confidenceDelta += Math.abs(stable.confidence - candidate.confidence);
    if (stable.label === candidate.label) comparison.agreed++;
    else {
      const pair = `${stable.label}\u0000${candidate.label}`;
      comparison.disagreements.set(pair, (comparison.disagreements.get(pair) ?? 0) + 1);
    }
  }

  /** Both kinds of traffic together: what automatic rollback judges. */
  get compared(): number {
    return this.traffic.canary.compared + this.traffic.shadow.compared;
  }

  get agreement(): number {
    const agreed = this.traffic.canary.agreed + this.traffic.shadow.agreed;
    return this.compared === 0 ? 1 : agreed / this.compared;
  }
}

function emptyComparison(): TrafficComparison {
  return { compared: 0, agreed: 0, confidenceDelta: 0, disagreements: new Map() };
}

export const rate = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);
