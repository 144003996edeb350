/** Shares in plain words: "0", or two decimals ("0.10") unless that would hide a third. */
export function formatShare(share: number): string {
  if (share === 0) return '0';
  const two = share.toFixed(2);
  return Math.abs(Number(two) - share) < 1e-9 ? two : share.toFixed(3);
}

/** Epoch ms as an ISO instant; formatting a given time reads no clock. */
export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * Automatic burst ids derive from (service, start time) so that deciding stays pure and a
 * controller that restarts mid-decision derives the same id. No ":" — BullMQ rejects it in job ids.
 */
export function automaticBurstId(service: string, startedAt: number): string {
  return `${service}-${formatTime(startedAt).replace(/[-:]/g, '')}`;
}
