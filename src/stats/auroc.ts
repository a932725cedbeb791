/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative (ties count one half), computed from ranks (Mann-Whitney U).
 *
 * @module
 */

/** AUROC of `scores` against binary `labels`; null when one class is absent. */
export function auroc(scores: readonly number[], labels: readonly boolean[]): number | null {
  if (scores.length !== labels.length) {
    throw new RangeError(
      `Cannot compute AUROC: ${scores.length} scores for ${labels.length} labels`,
    );
  }
  const order = scores.map((s, i) => [s, i] as const).sort((x, y) => x[0] - y[0]);
  let positives = 0, rankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1][0] === order[start][0]) end++;
    const averageRank = (start + end) / 2 + 1; // ranks are 1-based; ties share their mean
    for (let j = start; j <= end; j++) {
      if (labels[order[j][1]]) {
        positives++;
        rankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
