import { CliError } from '../load-config.js';
import { type ApiClient, ApiError } from './api-client.js';
import { burstPath, findRefusal, followBurst } from './burst-follow.js';
import { burstDetailText, burstListTable, phaseText, shareText } from './burst-view.js';
import { type ClientOptions, clientContext } from './connection.js';
import { formatShare } from './format.js';
import {
  AbortAccepted,
  type Burst,
  BurstAccepted,
  type BurstDetail,
  BurstDetail as BurstDetailSchema,
  BurstsResponse,
} from './schemas.js';

export interface BurstStartOptions extends ClientOptions {
  readonly share: number;
  readonly reason: string;
  readonly steps?: number[];
  /** Milliseconds (parsed from e.g. `30m`). */
  readonly expires?: number;
  readonly wait?: boolean;
  /** Milliseconds; the --wait deadline. */
  readonly timeout: number;
}

/** `spillway burst start SERVICE --share S --reason R`: requests a manual burst, prints its id. */
export async function burstStart(service: string, options: BurstStartOptions): Promise<void> {
  const { api, output } = clientContext(options);
  const body = {
    service,
    share: options.share,
    reason: options.reason,
    ...(options.steps ? { steps: options.steps } : {}),
    ...(options.expires !== undefined ? { expiresInSeconds: Math.max(1, Math.round(options.expires / 1000)) } : {}),
  };
  const accepted = await api.post('/v1/bursts', body, BurstAccepted);
  if (!options.wait) {
    if (output.json) output.writeJson(accepted);
    else output.out(accepted.id);
    return;
  }
  if (!output.json) output.out(accepted.id);
  output.note(`burst ${accepted.id} requested for ${service} (share ${formatShare(options.share)}); following it:`);
  const burst = await followBurst(api, output, accepted.id, { goal: 'holding', timeoutMs: options.timeout });
  if (output.json) output.writeJson(burst);
  else output.out(`${burst.service} holding at share ${formatShare(burst.share)} (burst ${burst.id})`);
}

export interface BurstListOptions extends ClientOptions {
  readonly service?: string;
  readonly all?: boolean;
  readonly limit?: number;
}

/** The API's largest page. */
const MAX_PAGE = 1000;

/** `spillway burst list`: bursts in progress, or with --all the ended ones too (newest first). */
export async function burstList(options: BurstListOptions): Promise<void> {
  const { api, output } = clientContext(options);
  const { bursts, more, degraded } = await listBursts(api, options);
  if (output.json) return output.writeJson(bursts);
  if (bursts.length === 0) {
    output.out(options.all ? 'no bursts' : 'no bursts in progress (--all shows ended ones)');
  } else output.out(burstListTable(bursts, Date.now()));
  if (more) output.note(`note: more bursts than --limit ${bursts.length}; a larger --limit shows them`);
  if (degraded) output.note(`note: the controller is degraded: ${degraded}`);
}

/** Follows the API's `next` cursors until `limit` bursts (default 100) or the end. */
export async function listBursts(
  api: ApiClient,
  options: BurstListOptions,
): Promise<{ bursts: Burst[]; more: boolean; degraded: string | null | undefined }> {
  const limit = options.limit ?? 100;
  const bursts: Burst[] = [];
  let cursor: string | undefined;
  let degraded: string | null | undefined;
  for (;;) {
    const page = await api.get('/v1/bursts', BurstsResponse, {
      service: options.service,
      active: options.all ? undefined : true,
      limit: Math.min(MAX_PAGE, limit - bursts.length),
      cursor,
    });
    bursts.push(...page.bursts);
    degraded = page.degraded;
    if (!page.next) return { bursts, more: false, degraded };
    if (bursts.length >= limit) return { bursts, more: true, degraded };
    cursor = page.next;
  }
}

/** `spillway burst show ID`: the burst's fields and its history. */
export async function burstShow(id: string, options: ClientOptions): Promise<void> {
  const { api, output } = clientContext(options);
  const burst = await getBurstOrRefusal(api, id);
  if (output.json) output.writeJson(burst);
  else output.out(burstDetailText(burst, Date.now(), output.bold));
}

/** A 404 for a burst the controller refused to start says why, not just "no burst". */
async function getBurstOrRefusal(api: ApiClient, id: string): Promise<BurstDetail> {
  try {
    return await api.get(burstPath(id), BurstDetailSchema);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    const refusal = await findRefusal(api, id).catch(() => undefined);
    throw refusal ? new CliError(refusal) : error;
  }
}

export interface BurstAbortOptions extends ClientOptions {
  readonly reason?: string;
  readonly wait?: boolean;
  readonly timeout: number;
}

/** `spillway burst abort ID`: traffic back on-prem first, capacity after. */
export async function burstAbort(id: string, options: BurstAbortOptions): Promise<void> {
  const { api, output } = clientContext(options);
  const accepted = await api.post(
    `${burstPath(id)}/abort`,
    options.reason ? { reason: options.reason } : {},
    AbortAccepted,
  );
  if (!options.wait) {
    if (output.json) output.writeJson(accepted);
    else output.out(`abort requested for burst ${accepted.id} (${accepted.service})`);
    return;
  }
  output.note(`abort requested for burst ${accepted.id} (${accepted.service}); following it:`);
  const burst = await followBurst(api, output, id, { goal: 'ended', timeoutMs: options.timeout });
  if (output.json) output.writeJson(burst);
  else output.out(`burst ${burst.id} ${phaseText(burst)}: share ${shareText(burst)}`);
}
