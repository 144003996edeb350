/** What a cloud adapter was doing when it failed. */
export type CloudAction = 'scale-nodegroup' | 'scale-deployment' | 'set-dns-weights' | 'read-status';

/**
 * A failed cloud action, typed so the job layer can decide: `retryable` errors (throttling that
 * outlasted the SDK's retries, a conflicting update, a deadline passed while waiting, a network
 * failure, a 5xx) may succeed on a later attempt; the others (invalid parameters, a missing
 * resource, a DEGRADED nodegroup, a rejected change batch, a request over the budget) will not
 * until someone changes something. The message is one line: `<action> <target>: <what happened>`.
 */
export class CloudActionError extends Error {
  override readonly name = 'CloudActionError';
  readonly action: CloudAction;
  /** The target as text, e.g. `us-west-2/burst/spot`, `cloud/shop/checkout`, `Z3M3LMPEXAMPLE/example.com A`. */
  readonly target: string;
  readonly retryable: boolean;
  /** The service's error code when there is one (ResourceInUseException, InvalidChangeBatch, Conflict, …). */
  readonly code: string | undefined;

  constructor(
    fields: { action: CloudAction; target: string; retryable: boolean; detail: string; code?: string },
    options?: { cause?: unknown },
  ) {
    super(oneLine(`${fields.action} ${fields.target}: ${fields.detail}`), options);
    this.action = fields.action;
    this.target = fields.target;
    this.retryable = fields.retryable;
    this.code = fields.code;
  }
}

/** Service error codes that mean "try again later" (the SDK's throttling list plus conflicts). */
const RETRYABLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
  'ResourceInUseException',
  'ServerException',
  'ServiceUnavailableException',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** The code of an AWS SDK error (its `name`), or of a Node network error (`code`). */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code } = error as Error & { code?: unknown };
  if (typeof code === 'string') return code;
  return error.name && error.name !== 'Error' ? error.name : undefined;
}

/** Whether an SDK error is worth another attempt: a retryable code, a 5xx, or a network failure. */
export function isRetryable(error: unknown): boolean {
  const code = errorCode(error);
  if (code && RETRYABLE_CODES.has(code)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

/** Wraps anything thrown by a client into a CloudActionError (kept as is when it already is one). */
export function toCloudError(action: CloudAction, target: string, error: unknown, doing?: string): CloudActionError {
  if (error instanceof CloudActionError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const detail = `${doing ? `${doing}: ` : ''}${code && !message.startsWith(code) ? `${code}: ` : ''}${message}`;
  return new CloudActionError(
    { action, target, retryable: isRetryable(error), detail, ...(code ? { code } : {}) },
    { cause: error },
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * What a long-running cloud action checks while it runs. A job whose desired value is no longer
 * wanted (a newer step, an abort) must stop before it writes again, not after its deadline: a
 * superseded scale that kept polling would re-send its old size over the newer one.
 */
export interface ActionGuard {
  /** Ends a wait at once; the action then stops with ActionSupersededError. */
  readonly signal?: AbortSignal;
  /** Asked before every write and on every poll iteration; false stops the action. */
  readonly stillWanted?: () => Promise<boolean>;
}

/** The action stopped because its value is no longer wanted; nothing more was written. */
export class ActionSupersededError extends Error {
  override readonly name = 'ActionSupersededError';

  constructor(
    readonly action: CloudAction,
    readonly target: string,
  ) {
    super(`${action} ${target}: superseded by a newer decision; stopped before writing again`);
  }
}

/** Throws ActionSupersededError when the guard says the action is no longer wanted. */
export async function checkGuard(guard: ActionGuard | undefined, action: CloudAction, target: string): Promise<void> {
  if (!guard) return;
  const wanted = !guard.signal?.aborted && (guard.stillWanted ? await guard.stillWanted() : true);
  // Aborted while asking counts too: the answer may already be stale.
  if (!wanted || guard.signal?.aborted) throw new ActionSupersededError(action, target);
}
