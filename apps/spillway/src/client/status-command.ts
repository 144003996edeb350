import { BURST_PROGRESS_COLUMNS, burstRows } from './burst-view.js';
import { apiClientFor, type ClientOptions, clientContext } from './connection.js';
import { formatAge, orDash } from './format.js';
import type { Output } from './output.js';
import {
  type Burst,
  BurstsResponse,
  ClustersResponse,
  ControllerStatus,
  Health,
  Readiness,
  XdsClientsResponse,
} from './schemas.js';
import { formatFields, formatTable } from './table.js';

export interface StatusOptions extends ClientOptions {
  /** Distributed mode: the controller's own API (default: --api). */
  readonly controllerApi?: string;
  /** Distributed mode: the router's own API (default: --api). */
  readonly routerApi?: string;
}

/** A part of the status screen: its value, or why it could not be read. */
type Section<T> = { readonly value: T } | { readonly error: string };

async function section<T>(load: () => Promise<T>): Promise<Section<T>> {
  try {
    return { value: await load() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

interface StatusReport {
  readonly api: { url: string; healthy: boolean; ready: boolean; checks: Readiness['checks'] };
  readonly sources: Section<ClustersResponse>;
  readonly bursts: Section<Burst[]>;
  readonly controller: Section<ControllerStatus>;
  readonly xds: Section<{ clients: number }>;
}

/** `spillway status`: health, sources, bursts in progress, controller and xDS clients on one screen. */
export async function statusCommand(options: StatusOptions): Promise<void> {
  const { api, output } = clientContext(options);
  const other = (url: string | undefined) => (url ? apiClientFor(url, options) : api);
  const controllerApi = other(options.controllerApi);
  const routerApi = other(options.routerApi);
  // Health first: when the API is not there, the one-line hint says so and nothing else runs.
  await api.get('/healthz', Health);
  const [readiness, sources, bursts, controller, xds] = await Promise.all([
    api.probe('/readyz', Readiness),
    section(() => api.get('/v1/clusters', ClustersResponse)),
    section(async () => (await controllerApi.get('/v1/bursts', BurstsResponse, { active: true })).bursts),
    section(() => controllerApi.get('/v1/controller', ControllerStatus)),
    section(async () => ({ clients: (await routerApi.get('/v1/xds/clients', XdsClientsResponse)).clients.length })),
  ]);
  const report: StatusReport = {
    api: { url: api.baseUrl, healthy: true, ready: readiness.status === 200, checks: readiness.body.checks },
    sources,
    bursts,
    controller,
    xds,
  };
  if (output.json) output.writeJson(statusJson(report));
  else printStatus(output, report, Date.now());
}

/** For --json: each part is its value, or `{ "error": "…" }` when it could not be read. */
function statusJson(report: StatusReport): Record<string, unknown> {
  const plain = <T>(part: Section<T>) => ('value' in part ? part.value : { error: part.error });
  return {
    api: report.api,
    sources: plain(report.sources),
    bursts: plain(report.bursts),
    controller: plain(report.controller),
    xds: plain(report.xds),
  };
}

function printStatus(output: Output, report: StatusReport, now: number): void {
  output.out(`${output.bold('Spillway')} at ${report.api.url}: healthy, ${readinessText(report.api)}`);
  output.out(
    `\n${output.bold('Sources')}${'value' in report.sources ? ` (catalog v${report.sources.value.version})` : ''}`,
  );
  output.out(render(report.sources, (value) => sourcesTable(value, now)));
  output.out(`\n${output.bold('Bursts in progress')}`);
  output.out(render(report.bursts, (bursts) => burstsTable(bursts, now)));
  output.out('');
  output.out(
    formatFields([
      [
        'Controller',
        'value' in report.controller ? controllerText(report.controller.value) : unavailable(report.controller),
      ],
      ['xDS clients', 'value' in report.xds ? `${report.xds.value.clients} connected` : unavailable(report.xds)],
    ]),
  );
}

function readinessText(api: StatusReport['api']): string {
  if (api.ready) return 'ready';
  const failing = api.checks.filter((check) => !check.ready);
  const why = failing.map((check) => `${check.name}${check.detail ? `: ${check.detail}` : ''}`).join('; ');
  return `NOT ready${why ? ` (${why})` : ''}`;
}

function render<T>(part: Section<T>, table: (value: T) => string): string {
  return 'value' in part ? table(part.value) : `  ${unavailable(part)}`;
}

function unavailable(part: { error: string }): string {
  return `unavailable: ${part.error}`;
}

function sourcesTable(response: ClustersResponse, now: number): string {
  if (response.clusters.length === 0) return '  (no sources configured)';
  return formatTable(
    [
      { header: 'NAME' },
      { header: 'KIND' },
      { header: 'ENV' },
      { header: 'REGION' },
      { header: 'STATE' },
      { header: 'SERVICES', align: 'right' },
      { header: 'ENDPOINTS', align: 'right' },
      { header: 'LAST SYNC' },
      { header: 'LAST ERROR' },
    ],
    response.clusters.map((source) => [
      source.name,
      source.kind,
      source.environment,
      source.region,
      source.state,
      String(source.serviceCount),
      String(source.endpointCount),
      formatAge(source.lastSyncAt, now),
      orDash(source.lastError),
    ]),
    { indent: '  ' },
  );
}

function burstsTable(bursts: readonly Burst[], now: number): string {
  if (bursts.length === 0) return '  (none)';
  return formatTable(BURST_PROGRESS_COLUMNS, burstRows(bursts, now), { indent: '  ' });
}

function controllerText(status: ControllerStatus): string {
  const role = status.leader ? 'leader' : 'standby';
  const health = status.degraded ? `degraded: ${orDash(status.lastError)}` : 'ok';
  return `${status.owner} (${role}), ${health}`;
}
