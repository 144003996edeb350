/**
 * Splits `total` into integer weights proportional to `capacities`, each at least 1, summing
 * to exactly `total` whenever `total >= capacities.length` (largest-remainder method; ties go
 * to the earlier index so the result is deterministic).
 */
export function apportionWeights(total: number, capacities: readonly number[]): number[] {
  const sum = capacities.reduce((acc, capacity) => acc + capacity, 0);
  if (capacities.length === 0) return [];
  const quotas = capacities.map((capacity) => (sum > 0 ? (total * capacity) / sum : total / capacities.length));
  const weights = quotas.map((quota) => Math.max(1, Math.floor(quota)));
  let missing = total - weights.reduce((acc, weight) => acc + weight, 0);
  const byRemainder = quotas
    .map((quota, index) => ({ index, remainder: quota - (weights[index] ?? 0) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (let i = 0; missing > 0; i = (i + 1) % byRemainder.length, missing--) {
    const index = byRemainder[i]!.index;
    weights[index] = (weights[index] ?? 0) + 1;
  }
  // Only the "at least 1" floor can overshoot; take the excess back from the largest weights.
  while (missing < 0) {
    const largest = weights.indexOf(Math.max(...weights));
    if ((weights[largest] ?? 0) <= 1) break;
    weights[largest] = (weights[largest] ?? 0) - 1;
    missing++;
  }
  return weights;
}
