import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { api, type Json, startHarness, TOKENS } from './controller-harness.js';

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** An Alertmanager notification (payload version 4) of `count` alerts that match no policy. */
function unmatchedAlerts(count: number, labelBytes = 10): Json {
  return {
    version: '4',
    groupKey: '{}:{alertname="Noise"}',
    status: 'firing',
    receiver: 'spillway',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: Array.from({ length: count }, (_, i) => ({
      status: 'firing',
      labels: { alertname: `Noise${i}`, blob: 'x'.repeat(labelBytes) },
      annotations: {},
      startsAt: '2025-01-01T00:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: `f${i}`,
    })),
  };
}

async function walk(url: string, path: string, key: 'entries' | 'bursts'): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let next: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = await api(url, 'GET', next ? `${path}${separator}cursor=${encodeURIComponent(next)}` : path);
    expect(page.status).toBe(200);
    items.push(...page.body[key]);
    next = page.body.next;
    pages++;
  } while (next !== null && pages < 1_000);
  return { items, pages };
}

describe('API bounds: paginated audit and bursts, manual burst floors and expiry', () => {
  it('GET /v1/audit answers 100 entries by default with a cursor; webhook noise never hides an operator entry', async () => {
    harness = await startHarness();
    const { url } = harness;
    const request = { service: 'checkout.shop', share: 0.3, reason: 'before the noise' };
    expect((await api(url, 'POST', '/v1/bursts', request, TOKENS.operator)).status).toBe(202);
    // Each post leaves at least one signal entry (unmatched alerts are summarised per post).
    const posts: [number, number][] = [[1, 40_000], ...Array.from({ length: 110 }, (): [number, number] => [20, 10])];
    for (const [count, labelBytes] of posts) {
      const noise = await api(
        url,
        'POST',
        '/v1/alerts/alertmanager',
        unmatchedAlerts(count, labelBytes),
        TOKENS.webhook,
      );
      expect(noise.status).toBe(200);
    }
    const first = await api(url, 'GET', '/v1/audit');
    expect(first.body.entries).toHaveLength(100);
    expect(typeof first.body.next).toBe('string');
    const { items } = await walk(url, '/v1/audit?limit=7', 'entries');
    // Bounded in bytes: 40 KB of labels is not 40 KB in the trail.
    for (const entry of items) expect(Buffer.byteLength(JSON.stringify(entry))).toBeLessThanOrEqual(4096);
    expect(items.find((e: Json) => e.kind === 'api' && e.details?.reason === 'before the noise')).toBeDefined();
    const operator = await api(url, 'GET', '/v1/audit?class=operator');
    expect(operator.body.entries.map((e: Json) => e.message)).toEqual(['manual burst requested: share 0.3']);
    expect((await api(url, 'GET', '/v1/audit?limit=1001')).status).toBe(400);
    expect((await api(url, 'GET', '/v1/audit?cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
    expect((await api(url, 'GET', '/v1/audit?class=everything')).status).toBe(400);
  });

  it('audits refused requests (who, from where, which route, why), bounded per remote, counted in a metric', async () => {
    // The audit's minute is moved by hand: on the wall clock a flood may or may not straddle a
    // minute, which changes how many entries there are (10 a minute, plus one summary each).
    let now = Math.floor(Date.now() / 60_000) * 60_000;
    harness = await startHarness({}, { denialClock: () => now });
    const { url } = harness;
    const body = { service: 'checkout.shop', share: 0.3, reason: 'r' };
    expect((await api(url, 'POST', '/v1/bursts', body)).status).toBe(401);
    expect((await api(url, 'POST', '/v1/bursts/x/abort', {}, TOKENS.viewer)).status).toBe(403);
    const [forbidden, anonymous] = (await api(url, 'GET', '/v1/audit?class=denial')).body.entries as Json[];
    expect(anonymous).toMatchObject({
      kind: 'denial',
      actor: 'anonymous',
      details: {
        status: 401,
        reason: 'missing-token',
        remoteAddress: '127.0.0.1',
        method: 'POST',
        route: '/v1/bursts',
      },
    });
    expect(forbidden).toMatchObject({
      actor: 'viewer',
      details: { status: 403, reason: 'missing-role', route: '/v1/bursts/:id/abort' },
    });
    // A flood of bad tokens: counted, but only 10 entries per remote per minute (the two above
    // included); the rest is summed up in one entry when the minute ends.
    for (let i = 0; i < 300; i++) {
      expect((await api(url, 'POST', '/v1/bursts', body, `guess-${i}`)).status).toBe(401);
    }
    const denials = async () => (await api(url, 'GET', '/v1/audit?class=denial&limit=1000')).body.entries as Json[];
    await waitFor(async () => (await denials()).length === 10, { message: 'the first 10 denials recorded' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/spillway_http_denied_total\{reason="unknown-token",route="\/v1\/bursts"\} 300/);

    now += 60_000;
    expect((await api(url, 'POST', '/v1/bursts', body, 'next-minute')).status).toBe(401);
    const entries = await waitFor(
      async () => {
        const all = await denials();
        return all.length === 12 ? all : undefined;
      },
      { message: 'the summary and the next minute’s first denial' },
    );
    const summary = entries.find((entry) => entry.details?.suppressed !== undefined);
    expect(summary).toMatchObject({
      actor: 'spillway',
      details: { suppressed: 292, remotes: 1, busiest: { '127.0.0.1': 302 } },
    });
    expect(entries.filter((entry) => entry.details?.remoteAddress === '127.0.0.1')).toHaveLength(11);
  });

  it('GET /v1/bursts pages with a cursor, newest first', async () => {
    harness = await startHarness();
    const { url } = harness;
    const { bursts } = harness.running.stores;
    const base = Date.now() - 60_000;
    for (let i = 0; i < 7; i++) {
      const at = new Date(base + i * 1000).toISOString();
      await bursts.put({ id: `b${i}`, service: 'checkout.shop', createdAt: at, updatedAt: at, active: false });
    }
    const { items, pages } = await walk(url, '/v1/bursts?limit=3', 'bursts');
    expect(items.map((b: Json) => b.id)).toEqual(['b6', 'b5', 'b4', 'b3', 'b2', 'b1', 'b0']);
    expect(pages).toBe(3);
    expect((await api(url, 'GET', '/v1/bursts?cursor=%%%')).status).toBe(400);
  });

  it('refuses a manual share below 0.01 and gives every manual burst an expiry', async () => {
    harness = await startHarness();
    const { url } = harness;
    const request = { service: 'checkout.shop', reason: 'r' };
    for (const bad of [{ share: 5e-324 }, { share: 0.005 }, { share: 0.3, steps: [0.001, 0.3] }]) {
      const refused = await api(url, 'POST', '/v1/bursts', { ...request, ...bad }, TOKENS.operator);
      expect(refused.status).toBe(400);
      expect(refused.body.detail).toMatch(/at least 0.01/);
    }
    expect((await api(url, 'GET', '/v1/audit')).body.entries).toEqual([]);
    const before = Date.now();
    const started = await api(url, 'POST', '/v1/bursts', { ...request, share: 0.3 }, TOKENS.operator);
    expect(started.status).toBe(202);
    const shown = await waitFor(async () => {
      const burst = await api(url, 'GET', `/v1/bursts/${started.body.id}`);
      return burst.status === 200 ? burst.body : undefined;
    });
    // Four hours by default (docs/burst-controller.md); an operator may ask for up to a week.
    const expiresIn = Date.parse(shown.expiresAt) - before;
    expect(expiresIn).toBeGreaterThan(4 * 3600_000 - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(4 * 3600_000 + 60_000);
  });
});
