/**
 * The Jensen–Shannon divergence of two distributions given as counts or shares over the same bins, base 2: 0 when
 * they are the same, 1 when they share no bin. Chosen over the population stability index for drift because it is
 * bounded (a threshold means the same for every model), symmetric, and defined when a bin is empty on one side,
 * which a reference of a few dozen photos leaves for most classes (PSI needs an arbitrary smoothing there).
 */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new Error('Both distributions need the same bins.');
  const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
  const [sp, sq] = [sum(p), sum(q)];
  if (sp <= 0 || sq <= 0) return 0;
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp;
    const b = q[i] / sq;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  }
  return Math.min(1, Math.max(0, divergence));
}
