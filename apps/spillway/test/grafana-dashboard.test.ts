import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningPrometheus, startPrometheus } from '@spillway/test/support/prometheus';
import { promtool } from '@spillway/test/support/promtool';
import { waitFor } from '@spillway/test/support/wait';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CliProcess } from './cli-process.js';

/**
 * infra/grafana/spillway.json against the real things: every PromQL expression parses with
 * promtool, names only metrics a running `spillway up` exports, and evaluates without error on
 * a real Prometheus scraping it; the alert rules name only exported metrics too.
 */
const DASHBOARD = fileURLToPath(new URL('../../../infra/grafana/spillway.json', import.meta.url));
const RULE_FILES = ['spillway-operations-rules.yml', 'spillway-slo-rules.yml'].map((file) =>
  fileURLToPath(new URL(`../../../infra/prometheus/${file}`, import.meta.url)),
);

/** How every panel names its data source: Grafana's variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
const CHOSEN_DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** Metrics the rules use that `spillway up` without TLS does not export, and who does. */
const EXPORTED_ELSEWHERE: Readonly<Record<string, string>> = {
  spillway_tls_certificate_not_after_seconds: 'every process with tls: configured',
  spillway_tls_reload_errors_total: 'every process with tls: configured',
};

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { type: string; uid: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: readonly Target[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { query: string };
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { list: readonly Variable[] };
}

/** Grafana's variables replaced by what Grafana would send: durations, and `.*` for All. */
function substitute(expr: string, rateInterval: string): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(\w+)(?::\w+)?\}?/g, '.*');
}

/** The metric names an expression uses: identifiers outside strings that are not functions, keywords or labels. */
function metricNames(expr: string): string[] {
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = new Set<string>();
  // Not a part of a recording rule's name (`level:metric:operation`).
  for (const match of code.matchAll(/(?<![\w:])(spillway_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)(?![\w:])/g)) {
    names.add(match[1]!);
  }
  return [...names];
}

/** Every metric name in a Prometheus text exposition, histogram series included. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

function expressions(dashboard: Dashboard): { where: string; expr: string }[] {
  const fromPanels = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `panel ${panel.id} "${panel.title}" ${target.refId}`,
      expr: target.expr,
    })),
  );
  // A query variable's label_values(SELECTOR, label): its selector is PromQL too.
  const fromVariables = dashboard.templating.list.flatMap((variable) => {
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    const selector = variable.type === 'query' ? /^label_values\((.*),\s*\w+\)$/.exec(query)?.[1] : undefined;
    return selector ? [{ where: `variable ${variable.name}`, expr: selector }] : [];
  });
  return [...fromPanels, ...fromVariables];
}

describe('infra/grafana/spillway.json', () => {
  let dashboard: Dashboard;
  let up: CliProcess;
  let api: string;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
    up = new CliProcess(['up', '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0']);
    api = await up.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
  });
  afterAll(async () => {
    await prometheus?.stop();
    await up?.stop();
  });

  it('is a Grafana dashboard whose panels all query the data source chosen in its variable', () => {
    expect(dashboard).toMatchObject({ uid: 'spillway', title: 'Spillway' });
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, `panel ${panel.id} width`).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource, `panel ${panel.id}`).toEqual(CHOSEN_DATASOURCE);
      expect(panel.targets?.length, `panel ${panel.id} has no query`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource).toEqual(panel.datasource);
    }
    // What the issue asks to see.
    const rows = dashboard.panels.filter((panel) => panel.type === 'row').map((panel) => panel.title);
    expect(rows).toEqual([
      'Fleet and catalog',
      'Sources',
      'xDS (locality router)',
      'Bursts and shares',
      'Burst controller',
      'Jobs',
      'Processes',
    ]);
  });

  it('every expression parses: promtool check rules, each written as a recording rule', async () => {
    const rules = expressions(dashboard).map(({ expr }, index) => ({
      record: `dashboard:expression_${index}`,
      expr: substitute(expr, '5m'),
    }));
    expect(rules.length).toBeGreaterThan(30);
    const dir = await mkdtemp(join(tmpdir(), 'spillway-dashboard-'));
    await writeFile(join(dir, 'dashboard.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
    const checked = await promtool(['check', 'rules', 'dashboard.yml'], dir);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toContain(`SUCCESS: ${rules.length} rules found`);

    // The same path refuses an expression that does not parse.
    await writeFile(
      join(dir, 'broken.yml'),
      stringify({ groups: [{ name: 'broken', rules: [{ record: 'x:y', expr: 'sum by (le (rate(x[5m]))' }] }] }),
    );
    expect((await promtool(['check', 'rules', 'broken.yml'], dir)).code).not.toBe(0);
  });

  it('uses only metrics spillway up exports, and they carry what happens: reconcile passes, job runs, xDS fan-outs', async () => {
    // A stream that watches checkout.shop: the burst's changes fan out to it.
    const xdsPort = Number(await up.waitForOutput(/xDS\s+127\.0\.0\.1:(\d+)/));
    const ads = AdsTestClient.sotw(xdsPort);
    try {
      ads.send({
        node: { id: 'dashboard-test', locality: { region: 'dc1', zone: 'dc1-a', sub_zone: '' } },
        type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
        resource_names: ['checkout.shop'],
      });
      await ads.next(20_000);
      // The demo's surge starts a burst whose jobs scale the simulated cloud.
      const exposition = await waitFor(
        async () => {
          const text = await (await fetch(`${api}/metrics`)).text();
          const ran = /^spillway_job_runs_total\{[^}]*outcome="completed"[^}]*\} [1-9]/m.test(text);
          const fanned = /^spillway_xds_fanout_seconds_count\{[^}]*\} [1-9]/m.test(text);
          const passed = /^spillway_controller_reconcile_duration_seconds_count\{[^}]*\} [1-9]/m.test(text);
          return ran && fanned && passed ? text : undefined;
        },
        { timeoutMs: 60_000, message: 'job runs, fan-outs and reconcile passes in /metrics' },
      );
      const exported = exportedNames(exposition);
      for (const { where, expr } of expressions(dashboard)) {
        for (const name of metricNames(expr)) expect(exported, `${where}: ${name} is not exported`).toContain(name);
      }
      for (const file of RULE_FILES) {
        const text = (await readFile(file, 'utf8')).replace(/^\s*#.*$/gm, '');
        for (const name of metricNames(text)) {
          if (!(name in EXPORTED_ELSEWHERE)) expect(exported, `${file}: ${name} is not exported`).toContain(name);
        }
      }
    } finally {
      ads.close();
    }
  });

  it('every expression evaluates without error on a real Prometheus scraping spillway up', async () => {
    prometheus = await startPrometheus({ scrapeTargets: [`${api}/metrics`], scrapeInterval: '1s' });
    const query = async (expr: string) => {
      const url = `${prometheus!.url}/api/v1/query?query=${encodeURIComponent(expr)}`;
      return (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: unknown[] } };
    };
    // Wait for a few scrapes, so rates have two samples.
    await waitFor(
      async () => {
        const scrapes = (await query('count_over_time(spillway_catalog_version[1m])')).data?.result as
          | { value: [number, string] }[]
          | undefined;
        return Number(scrapes?.[0]?.value[1] ?? 0) >= 3 || undefined;
      },
      { timeoutMs: 30_000, message: 'three scrapes of spillway up' },
    );
    // Spillway's own labels do not clash with the target's: a scraped `instance` or `job`
    // would be stored as `exported_instance`/`exported_job`.
    const labelNames = (await (await fetch(`${prometheus.url}/api/v1/labels`)).json()) as { data: string[] };
    expect(labelNames.data.filter((name) => name.startsWith('exported_'))).toEqual([]);
    const processes = (await (await fetch(`${prometheus.url}/api/v1/label/spillway_process/values`)).json()) as {
      data: string[];
    };
    expect(processes.data).toEqual(['embedded']);
    const empty: string[] = [];
    for (const { where, expr } of expressions(dashboard)) {
      const answer = await query(substitute(expr, '1m'));
      expect(answer.status, `${where}: ${answer.error}`).toBe('success');
      if ((answer.data?.result ?? []).length === 0) empty.push(where);
    }
    // Most panels show data at once; the rest (NACKs, denials, errors) are empty while nothing goes wrong.
    expect(empty.length, `empty: ${empty.join('; ')}`).toBeLessThan(expressions(dashboard).length / 2);
  });
});
