import type { JobQueue } from '@spillway/jobs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControllerStores, inMemoryStores } from '../src/index.js';
import { startHarness, TOKENS } from './controller-harness.js';
import { FollowerLease } from './support/follower-lease.js';

/**
 * Every public route and the webhook, over real HTTP (the controller harness: the same routes,
 * auth hook and problem handlers as `spillway up`), with ≥1,000 generated requests each: never a
 * 5xx, and a refused request (≥ 400) changes nothing — no burst record, audit entry (but its own
 * denial), inbox command, job, burst state or traffic policy.
 *
 * This process is an API node whose lease another process holds (as in distributed mode): it
 * answers and records requests but decides nothing, so every change in the stores is the
 * request's own and a before/after comparison is exact.
 */

const SEED = 20_261_204;
const RUNS = 1_000;

/** The real in-process queue, remembering the keys enqueued on it. */
function recordingJobs(queue: JobQueue): JobQueue & { readonly keys: string[] } {
  const keys: string[] = [];
  return Object.assign(Object.create(queue) as JobQueue, {
    keys,
    enqueue: async (job: Parameters<JobQueue['enqueue']>[0]) => {
      keys.push(job.key);
      return await queue.enqueue(job);
    },
  });
}

let harness: Awaited<ReturnType<typeof startHarness>>;
let stores: ControllerStores;
let jobKeys: string[];
const ACTIVE_BURST = 'manual-00000000-0000-4000-8000-000000000001';

beforeAll(async () => {
  const base = inMemoryStores();
  const jobs = recordingJobs(base.jobs);
  jobKeys = jobs.keys;
  stores = { ...base, jobs, lease: new FollowerLease('api-node') };
  harness = await startHarness({}, { stores });
  // A burst the leader (elsewhere) is running, so aborts have something to abort.
  const at = new Date().toISOString();
  await stores.bursts.put({ id: ACTIVE_BURST, service: 'checkout.shop', createdAt: at, updatedAt: at, active: true });
});

afterAll(async () => {
  await harness?.stop();
});

/**
 * Everything a request could change, as one comparable text. The audit is append-only and its
 * ids unique, so a class's newest entry (with the cursor after it, which encodes its id) stands
 * for the whole class; the inbox likewise by its length and last command.
 */
async function snapshot(): Promise<string> {
  const newest = (cls: 'operator' | 'decision' | 'signal') => stores.audit.page({ classes: [cls], limit: 1 });
  const [bursts, operator, decision, signal, inbox, states] = await Promise.all([
    stores.bursts.page({ limit: 1000 }),
    newest('operator'),
    newest('decision'),
    newest('signal'),
    stores.inbox.peek(),
    stores.states.all(),
  ]);
  return JSON.stringify({
    bursts,
    audit: [operator, decision, signal],
    inbox: [inbox.length, inbox.at(-1)],
    states: [...states.states],
    jobs: jobKeys.length,
    traffic: harness.traffic.get('checkout.shop') ?? null,
  });
}

interface Call {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Sent as is (a JSON text, or not). */
  readonly body?: string;
  readonly contentType?: string;
  readonly token?: string;
}

async function send(call: Call): Promise<number> {
  const response = await fetch(`${harness.url}${call.path}`, {
    method: call.method,
    headers: {
      ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
      ...(call.body !== undefined ? { 'content-type': call.contentType ?? 'application/json' } : {}),
    },
    ...(call.body !== undefined ? { body: call.body } : {}),
  });
  await response.arrayBuffer();
  return response.status;
}

/** The property: never 5xx; a refusal changes no state. */
async function check(call: Call): Promise<void> {
  const before = await snapshot();
  const status = await send(call);
  expect(status, `${call.method} ${call.path} ${call.body?.slice(0, 200) ?? ''}`).toBeLessThan(500);
  if (status >= 400) expect(await snapshot()).toBe(before);
}

// ---- generated inputs ----

/** Percent-encodes anything; a lone surrogate becomes the bytes of one (not valid UTF-8: good input too). */
function encodeAny(text: string): string {
  return Array.from(text, (char) => {
    try {
      return encodeURIComponent(char);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

const strings = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }), // lone surrogates included
  fc.constantFrom('', ' ', 'checkout.shop', 'nope.shop', 'CHECKOUT.SHOP', '../../etc', '%00', '\u0000', '\ud800'),
  fc.string({ minLength: 600, maxLength: 2000 }),
);
const numbers = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(5e-324, -0, 0, 1, 0.01, 0.00999, 0.3, 0.5, 1.0000001, 1e308, -1e308, 2 ** 53 + 1, 7 * 24 * 3600 + 1),
);
const anyJson = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue(),
  strings,
  numbers,
  fc.constant(null),
  fc.boolean(),
  fc.array(numbers, { maxLength: 30 }),
);
/** Texts that are not what the route wants: broken JSON, huge numbers, deep nesting. */
const rawTexts = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '',
    '{',
    'null',
    '[]',
    '"x"',
    '{"share": 1e999}',
    '{"service":"checkout.shop","share":0.3,"reason":"r","__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
    `{"a":${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}}`,
  ),
);

/** A valid body with one field changed, dropped or added. */
function mutations(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.record({ key: fc.constantFrom(...keys), value: anyJson }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key))),
    fc.record({ key: strings, value: anyJson }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc.constant(valid),
  );
}

const tokens = fc.oneof(
  { weight: 6, arbitrary: fc.constant('right') },
  fc.constantFrom(undefined, TOKENS.viewer, TOKENS.webhook, TOKENS.operator, 'wrong-token'),
);

function body(shapes: fc.Arbitrary<unknown>): fc.Arbitrary<{ body: string; contentType?: string }> {
  return fc.oneof(
    { weight: 8, arbitrary: shapes.map((value) => ({ body: JSON.stringify(value) ?? 'null' })) },
    { weight: 1, arbitrary: rawTexts.map((text) => ({ body: text })) },
    {
      weight: 1,
      arbitrary: fc
        .record({
          text: rawTexts,
          type: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
        })
        .map(({ text, type }) => ({ body: text, contentType: type })),
    },
  );
}

const validBurst = {
  service: 'checkout.shop',
  share: 0.3,
  reason: 'property test',
  steps: [0.1, 0.3],
  expiresInSeconds: 600,
};

const validAlerts = {
  version: '4',
  groupKey: '{}:{alertname="SpillwayErrorBudgetBurn"}',
  status: 'firing',
  receiver: 'spillway',
  groupLabels: { alertname: 'SpillwayErrorBudgetBurn' },
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  truncatedAlerts: 0,
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'SpillwayErrorBudgetBurn', service: 'checkout.shop', severity: 'page' },
      annotations: {},
      startsAt: '2025-01-01T00:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: 'abc',
    },
  ],
};

const burstIds = fc.oneof(
  fc.constant(ACTIVE_BURST),
  fc.constant('manual-does-not-exist'),
  strings.filter((id) => id.length > 0).map(encodeAny),
);

const queryValues = fc.oneof(
  strings.map(encodeAny),
  fc.constantFrom(
    '1',
    '0',
    '-1',
    '1000',
    '1001',
    '1e3',
    'true',
    'false',
    'checkout.shop',
    '2025-01-01T00:00:00Z',
    'operator,signal',
    'bm90LWEtY3Vyc29y',
    '%',
    '%E0%A4%A',
    '&&',
  ),
);
const queries = fc
  .array(
    fc.record({
      key: fc.constantFrom('service', 'active', 'limit', 'cursor', 'burstId', 'since', 'class', 'junk', '__proto__'),
      value: queryValues,
    }),
    { maxLength: 5 },
  )
  .map((pairs) => (pairs.length ? `?${pairs.map(({ key, value }) => `${key}=${value}`).join('&')}` : ''));

function withToken(token: string | undefined, right: string): string | undefined {
  return token === 'right' ? right : token;
}

describe('every public controller route, generated requests (fast-check, fixed seed)', () => {
  const options = { seed: SEED, numRuns: RUNS, endOnFailure: true };

  it('POST /v1/bursts', async () => {
    await fc.assert(
      fc.asyncProperty(body(mutations(validBurst)), tokens, async (sent, token) => {
        await check({ method: 'POST', path: '/v1/bursts', ...sent, token: withToken(token, TOKENS.operator) });
      }),
      options,
    );
  });

  it('POST /v1/bursts/{id}/abort', async () => {
    await fc.assert(
      fc.asyncProperty(
        burstIds,
        body(mutations({ reason: 'property test abort' })),
        tokens,
        async (id, sent, token) => {
          await check({
            method: 'POST',
            path: `/v1/bursts/${id}/abort`,
            ...sent,
            token: withToken(token, TOKENS.operator),
          });
        },
      ),
      options,
    );
  });

  it('POST /v1/alerts/alertmanager', async () => {
    const alert = validAlerts.alerts[0]!;
    const shapes = fc.oneof(
      mutations(validAlerts),
      mutations(alert).map((changed) => ({ ...validAlerts, alerts: [changed] })),
      fc.array(mutations(alert), { maxLength: 20 }).map((alerts) => ({ ...validAlerts, alerts })),
    );
    await fc.assert(
      fc.asyncProperty(body(shapes), tokens, async (sent, token) => {
        await check({
          method: 'POST',
          path: '/v1/alerts/alertmanager',
          ...sent,
          token: withToken(token, TOKENS.webhook),
        });
      }),
      options,
    );
  });

  it('GET /v1/bursts, /v1/bursts/{id}, /v1/audit, /v1/controller with generated ids and queries', async () => {
    const gets = fc.oneof(
      queries.map((query) => `/v1/bursts${query}`),
      fc.tuple(burstIds, queries).map(([id, query]) => `/v1/bursts/${id}${query}`),
      queries.map((query) => `/v1/audit${query}`),
      queries.map((query) => `/v1/controller${query}`),
    );
    await fc.assert(
      fc.asyncProperty(gets, tokens, async (path, token) => {
        await check({ method: 'GET', path, token: withToken(token, TOKENS.viewer) });
      }),
      options,
    );
  });
});
