import { Counter, createMetricsRegistry, metricOnce, type Registry } from '@spillway/observability';
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { type AlertmanagerNotification, parseRfc3339, type ReceivedAlert } from './alertmanager.js';
import { firstIssue } from './prometheus/response.js';

/**
 * Alertmanager's API v2 (`GET /api/v2/alerts`), asked for the members of a group whose webhook
 * notification `max_alerts` truncated. What the webhook cannot tell: the dropped alerts' labels,
 * and even the group's status and commonLabels, which Alertmanager computes from the listed
 * alerts only. What the API can: the alerts active now (not resolved, silenced or inhibited) with
 * the group's labels, routed to the receiver. What neither tells: a dropped alert that resolved
 * (the API lists only alerts still firing); it ends when the alert book's entry expires.
 */

const Labels = z.record(z.string(), z.string());
const Timestamp = z.string().transform((text, ctx) => {
  const date = parseRfc3339(text);
  if (!date) {
    ctx.addIssue({ code: 'custom', message: `not an RFC 3339 timestamp: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return date;
});

/** One gettableAlert of Alertmanager's OpenAPI spec (v0.25), the fields used here. */
const ApiAlert = z.looseObject({
  labels: Labels,
  annotations: Labels.optional(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  fingerprint: z.string().min(1),
  generatorURL: z.string().optional(),
  status: z.looseObject({ state: z.enum(['active', 'suppressed', 'unprocessed']) }),
  receivers: z.array(z.looseObject({ name: z.string() })).optional(),
});

export class AlertmanagerApiError extends Error {
  override readonly name = 'AlertmanagerApiError';
}

export interface AlertmanagerApiOptions {
  /** Deadline of one query. Default 5 s. */
  readonly timeoutMs?: number;
  /** Largest answer read; a group is small, a whole Alertmanager may not be. Default 4 MiB. */
  readonly maxBytes?: number;
  /** Most alerts taken from one answer. Default 10,000. */
  readonly maxAlerts?: number;
  readonly registry?: Registry;
}

export interface AlertGroup {
  /** The group's labels (its group_by values): every member carries them. */
  readonly labels: Readonly<Record<string, string>>;
  /** The receiver the notification was for; only alerts routed to it are members. */
  readonly receiver?: string;
}

/** Reads a group's active members from an Alertmanager. Throws AlertmanagerApiError. */
export class AlertmanagerApiClient {
  private readonly http: AxiosInstance;
  private readonly maxAlerts: number;
  private readonly queries: Counter<'outcome'>;

  constructor(options: AlertmanagerApiOptions = {}) {
    this.maxAlerts = options.maxAlerts ?? 10_000;
    const registry = options.registry ?? createMetricsRegistry({ defaultMetrics: false });
    this.queries = metricOnce(registry, Counter, {
      name: 'spillway_alertmanager_api_queries_total',
      help: 'Queries of Alertmanager GET /api/v2/alerts for truncated groups, by outcome (ok, error).',
      labelNames: ['outcome'],
    }) as Counter<'outcome'>;
    this.http = axios.create({
      timeout: options.timeoutMs ?? 5_000,
      maxContentLength: options.maxBytes ?? 4 * 1024 * 1024,
      maxRedirects: 0,
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      headers: { Accept: 'application/json' },
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
    });
  }

  /** The group's alerts firing now, as webhook alerts (status firing, endsAt null). */
  async activeMembers(baseUrl: string, group: AlertGroup): Promise<ReceivedAlert[]> {
    try {
      const members = await this.query(baseUrl, group);
      this.queries.inc({ outcome: 'ok' });
      return members;
    } catch (error) {
      this.queries.inc({ outcome: 'error' });
      if (error instanceof AlertmanagerApiError) throw error;
      const why = axios.isAxiosError(error) ? `${error.code ?? 'error'}: ${error.message}` : String(error);
      throw new AlertmanagerApiError(`Alertmanager ${baseUrl} GET /api/v2/alerts failed: ${why}`, { cause: error });
    }
  }

  private async query(baseUrl: string, group: AlertGroup): Promise<ReceivedAlert[]> {
    const params = new URLSearchParams({ active: 'true', silenced: 'false', inhibited: 'false', unprocessed: 'false' });
    for (const [name, value] of Object.entries(group.labels)) params.append('filter', matcher(name, value));
    if (group.receiver) params.set('receiver', escapeRegex(group.receiver));
    const url = `${baseUrl.replace(/\/+$/, '')}/api/v2/alerts?${params}`;
    const response = await this.http.get<string>(url);
    const where = `Alertmanager ${baseUrl} GET /api/v2/alerts`;
    if (response.status !== 200) throw new AlertmanagerApiError(`${where} answered ${response.status}`);
    let body: unknown;
    try {
      body = JSON.parse(response.data);
    } catch {
      throw new AlertmanagerApiError(`${where} answered something that is not JSON`);
    }
    const parsed = z.array(ApiAlert).max(this.maxAlerts).safeParse(body);
    if (!parsed.success) {
      const { path, message } = firstIssue(parsed.error);
      throw new AlertmanagerApiError(`${where} answered an unexpected body at ${path}: ${message}`);
    }
    return parsed.data
      .filter((alert) => alert.status.state === 'active' && carries(alert.labels, group.labels))
      .map((alert) => ({
        status: 'firing' as const,
        statusFromGroup: false,
        labels: alert.labels,
        annotations: alert.annotations ?? {},
        startsAt: alert.startsAt,
        endsAt: null,
        generatorURL: alert.generatorURL ?? null,
        fingerprint: alert.fingerprint,
      }));
  }
}

/** Does `labels` carry every one of `required` (the filter, checked again on what came back)? */
function carries(labels: Readonly<Record<string, string>>, required: Readonly<Record<string, string>>): boolean {
  return Object.entries(required).every(([name, value]) => labels[name] === value);
}

/** An equality matcher in Alertmanager's syntax: name="value" with \, " and newlines escaped. */
function matcher(name: string, value: string): string {
  const escaped = value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
  return `${name}="${escaped}"`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface GroupMembersOptions {
  /** Alertmanager's base URL; wins over the notification's externalURL. */
  readonly url?: string;
  /** Use the notification's externalURL when no URL is configured. */
  readonly useExternalUrl: boolean;
  readonly client: AlertmanagerApiClient;
}

/** Where to ask for a truncated notification's members, and the asking. */
export class AlertmanagerGroupMembers {
  constructor(private readonly options: GroupMembersOptions) {}

  /** The group's active members; throws AlertmanagerApiError when it cannot say. */
  async of(notification: AlertmanagerNotification): Promise<ReceivedAlert[]> {
    const baseUrl = this.baseUrl(notification);
    return await this.options.client.activeMembers(baseUrl, {
      labels: notification.groupLabels,
      ...(notification.receiver ? { receiver: notification.receiver } : {}),
    });
  }

  private baseUrl(notification: AlertmanagerNotification): string {
    if (this.options.url) return this.options.url;
    if (!this.options.useExternalUrl)
      throw new AlertmanagerApiError('no Alertmanager URL configured (alerts.alertmanagerUrl) and useExternalUrl off');
    let url: URL;
    try {
      url = new URL(notification.externalURL);
    } catch {
      throw new AlertmanagerApiError(
        `the notification's externalURL is not a URL: ${JSON.stringify(notification.externalURL.slice(0, 200))}`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new AlertmanagerApiError(`the notification's externalURL is not http(s): ${url.protocol}`);
    if (url.username || url.password)
      throw new AlertmanagerApiError("the notification's externalURL carries credentials");
    return `${url.origin}${url.pathname}`;
  }
}
