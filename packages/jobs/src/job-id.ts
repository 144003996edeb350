/**
 * BullMQ job ids may not contain `:` (its key separator) nor look like integers (its own
 * counter). Idempotency keys do both (`b-1:2:scale`), so the id is the key, escaped, prefixed.
 */
export function jobIdOf(key: string): string {
  if (key === '') throw new TypeError('a job key may not be empty');
  return `k-${encodeURIComponent(key)}`;
}

export function keyOfJobId(jobId: string): string {
  return jobId.startsWith('k-') ? decodeURIComponent(jobId.slice(2)) : jobId;
}
