/**
 * HA across processes: one `spillway federation`, two `spillway controller`s (one leads through
 * the Redis lease, both run job workers) and two `spillway router`s on a real Redis, the cloud
 * fakes, and a real grpc-js-xds client sending RPCs to real gRPC servers (the service's on-prem
 * and cloud endpoints). For each victim in turn — the leader controller, the other controller,
 * the router the client follows, the federation — a burst is started through the API, and the
 * victim is killed with SIGKILL while the burst is between its steps.
 *
 * What must hold each time: the burst is neither lost nor doubled (one active burst, the same id,
 * its phase goes on to holding at its share); the cloud fakes' write histories show each size
 * and weight asked for once, never going back (no duplicate or regressing UpdateNodegroupConfig,
 * Deployment scale or Route 53 change); and the xDS client keeps getting answers, and its RPCs
 * land where the share says (on-prem only in its own zone, the cloud's part near the share).
 *
 * The kill lands at a quiet point between steps (the first step served, its Deployment and share
 * jobs completed; only the nodegroup's and Route 53's jobs still wait out their 30 s polls, and
 * the next step supersedes them): a Deployment or share job killed
 * mid-flight is retaken only when its BullMQ lock lapses (30–60 s; kill-resume.e2e.test.ts in
 * apps/controller covers that), which would make this test minutes long. A controller taking
 * over waits for the dead leader's lease to lapse (10 s).
 */
import { redisTrafficPolicies } from '@spillway/controller';
import { BullMqJobQueue } from '@spillway/jobs';
import { silentLogger } from '@spillway/observability';
import { formatIdentity, type IdentityServer, startIdentityServer } from '@spillway/simulator';
import { type BurstWorld, processExit, startBurstWorld, type WorldProcess } from '@spillway/test/support/burst-world';
import { BURST_CLOUD_REGION } from '@spillway/test/support/burst-world-files';
import { hasExited } from '@spillway/test/support/child-processes';
import { freePort } from '@spillway/test/support/free-port';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedialingXdsClient } from './support/redialing-xds-client.js';
import { K8S_TOKEN, SERVICE, spawnCli, THREE_PROCESS_FILES, TOKENS } from './support/three-process-world.js';

// biome-ignore lint/suspicious/noExplicitAny: API answers are inspected field by field by the assertions
type Json = any;

const SHARE = 0.25;
const CLIENT_NODE = `ha-client-${process.pid}`;
const ONPREM_ZONES = ['dc1-a', 'dc1-b'];
const CLOUD_ZONES = [`${BURST_CLOUD_REGION}a`, `${BURST_CLOUD_REGION}b`];

let world: BurstWorld | undefined;
const servers: IdentityServer[] = [];
let policies: Awaited<ReturnType<typeof redisTrafficPolicies>> | undefined;
let jobs: BullMqJobQueue | undefined;
let client: RedialingXdsClient | undefined;
let federationListen = '';
let federationUrl = '';
let federation: WorldProcess | undefined;
const controllers: { process: WorldProcess; url: string }[] = [];
const routers: { process: WorldProcess; url: string; xdsPort: number }[] = [];

const live = <T extends { process: WorldProcess }>(members: readonly T[]) =>
  members.filter((member) => !hasExited(member.process.child));

beforeAll(async () => {
  // The service's endpoints are real gRPC servers: an RPC's answer says where it landed.
  const identities = [
    ...ONPREM_ZONES.map((zone) => ({ cluster: 'dc1', zone, endpoint: zone })),
    ...CLOUD_ZONES.map((zone) => ({ cluster: 'eks-use1', zone, endpoint: zone })),
  ];
  for (const identity of identities) servers.push(await startIdentityServer({ identity, port: 0 }));
  const endpoint = (index: number, zone: string) => ({ address: '127.0.0.1', port: servers[index]!.port, zone });
  world = await startBurstWorld({
    spawn: spawnCli,
    // Pods ready at the next read, nodegroup updates ACTIVE at the next describe: capacity is
    // never what the test waits for.
    cloud: { kubernetesToken: K8S_TOKEN, readyStep: 10, nodegroupUpdates: 0 },
    files: {
      ...THREE_PROCESS_FILES,
      tempPrefix: 'spillway-ha-',
      endpoints: {
        onprem: ONPREM_ZONES.map((zone, i) => endpoint(i, zone)),
        cloud: CLOUD_ZONES.map((zone, i) => endpoint(ONPREM_ZONES.length + i, zone)),
      },
    },
  });
  federationListen = `127.0.0.1:${await freePort()}`;
  ({ process: federation, url: federationUrl } = await world.startFederation({ listen: federationListen }));
  const started = await Promise.all([
    world.startController(federationUrl, 'controller-1'),
    world.startController(federationUrl, 'controller-2'),
    world.startRouter(federationUrl, 'router-1'),
    world.startRouter(federationUrl, 'router-2'),
  ]);
  controllers.push(started[0], started[1]);
  routers.push(started[2], started[3]);
  policies = await redisTrafficPolicies(world.redis.url, silentLogger());
  jobs = new BullMqJobQueue(
    { url: world.redis.url },
    { kinds: ['scale-nodegroup', 'scale-deployment', 'set-traffic-share', 'set-dns-weights'] },
  );
  await waitFor(async () => (await leader()) !== undefined, { timeoutMs: 30_000, message: 'a controller leading' });
  for (const router of routers) {
    await waitFor(async () => (await fetch(`${router.url}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      message: `${router.url} ready`,
    });
  }
  // An on-prem client in dc1/dc1-a, on the first router; the second is where it goes next.
  client = new RedialingXdsClient(SERVICE, () => routers.map((router) => router.xdsPort), {
    id: CLIENT_NODE,
    locality: { region: 'dc1', zone: 'dc1-a' },
  });
  await waitFor(async () => (await client!.who()) === identity('dc1', 'dc1-a'), {
    timeoutMs: 30_000,
    message: 'the client answered by its own zone',
  });
}, 120_000);

afterAll(async () => {
  client?.close();
  await Promise.allSettled([policies?.close(), jobs?.close(), ...servers.map((server) => server.stop())]);
  // No graceful stop to wait for: what a SIGTERM does is shutdown.e2e.test.ts's concern.
  await world?.stop(500);
}, 60_000);

function identity(cluster: string, zone: string): string {
  return formatIdentity({ cluster, zone, endpoint: zone });
}

async function getJson(url: string): Promise<Json> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The live controller that holds the lease, if one does. */
async function leader(): Promise<{ process: WorldProcess; url: string } | undefined> {
  for (const controller of live(controllers)) {
    const body = await getJson(`${controller.url}/v1/controller`).catch(() => undefined);
    if (body?.leader === true) return controller;
  }
  return undefined;
}

/** Any live controller's API: each one takes commands and reads the shared state. */
const anyController = () => live(controllers)[0]!.url;
const routerShare = () => policies!.policies.get(SERVICE)?.cloudShare ?? 0;

/** Where the cloud fakes stand now: each history's length, to read what a case wrote. */
function historyMarks() {
  const { eks, k8s, route53 } = world!.cloud;
  return {
    updates: eks.updateRequests('burst', 'spot').length,
    scales: k8s.deploymentRequests('shop', 'checkout', 'PUT').length,
    changes: route53.acceptedChanges().length,
  };
}

/** What the fakes were asked since `marks`: desired nodes, replicas, cloud DNS weights, in order. */
function writesSince(marks: ReturnType<typeof historyMarks>) {
  const { eks, k8s, route53 } = world!.cloud;
  const { cloudSetIdentifier } = world!.cloud.dns;
  return {
    nodes: eks
      .updateRequests('burst', 'spot')
      .slice(marks.updates)
      .map((request) => (request.body as Json).scalingConfig.desiredSize as number),
    replicas: k8s
      .deploymentRequests('shop', 'checkout', 'PUT')
      .slice(marks.scales)
      .map((request) => request.replicas),
    cloudWeights: route53
      .acceptedChanges()
      .slice(marks.changes)
      .map(
        (request) =>
          request.changes?.find((change) => change.recordSet.SetIdentifier === cloudSetIdentifier)?.recordSet.Weight,
      ),
  };
}

/**
 * Every queued action of the burst has completed except those that poll the cloud every 30 s
 * (the nodegroup's and Route 53's, the AWS waiters' cadence): a kill leaves those to be retaken
 * when their lock lapses, and a newer step supersedes them; the burst does not wait for them.
 */
async function quietBetweenSteps(burstId: string): Promise<boolean> {
  const entries = (await getJson(`${anyController()}/v1/audit?burstId=${burstId}&limit=1000`)).entries as Json[];
  const keys = entries
    .filter((entry) => entry.kind === 'action' && entry.details?.action && entry.details.key)
    .filter((entry) => !['set-dns-weights', 'scale-nodegroup'].includes(entry.details.action.kind))
    .map((entry) => entry.details.key as string);
  if (keys.length === 0) return false;
  const states = await Promise.all(keys.map(async (key) => (await jobs!.status(key)).state));
  return states.every((state) => state === 'completed');
}

/** Calls through the client until stopped; what each call answered. */
function keepCalling(): { answers: string[]; stop: () => Promise<string[]> } {
  const answers: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) answers.push(await client!.who());
  })();
  return {
    answers,
    stop: async () => {
      running = false;
      await loop;
      return answers;
    },
  };
}

/** The cloud's part of `count` calls, once every call is answered by a priority-0 locality. */
async function cloudPart(count: number): Promise<number> {
  const answers = await Promise.all(Array.from({ length: count }, () => client!.who()));
  const cloud = answers.filter((answer) => answer.startsWith('eks-use1/')).length;
  const elsewhere = answers.filter((answer) => !answer.startsWith('eks-use1/') && answer !== identity('dc1', 'dc1-a'));
  expect(elsewhere).toEqual([]);
  return cloud / count;
}

interface Kill {
  /** What was killed, for messages. */
  readonly victim: string;
}

/**
 * A burst through the API; at its quiet point between steps, `kill` (SIGKILL of one process);
 * then the burst must reach holding at SHARE with every write once, and the client must keep
 * getting answers that land where the share says. The burst is aborted at the end, so the next
 * case starts from idle.
 */
async function burstThroughKill(kill: () => Promise<Kill>): Promise<void> {
  try {
    await burstAndKill(kill);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await diagnostics()}`, { cause: error });
  }
}

/** What a failure report needs: what each process said, what was written, what was decided. */
async function diagnostics(): Promise<string> {
  const audit = await getJson(`${anyController()}/v1/audit?limit=200`)
    .then((body) => (body.entries as Json[]).reverse().map((e) => `  ${e.at} ${e.kind} ${e.actor} ${e.message}`))
    .catch((error: Error) => [`audit unavailable: ${error.message}`]);
  return [
    `router share ${routerShare()}; writes ${JSON.stringify(writesSince({ updates: 0, scales: 0, changes: 0 }))}`,
    world!.outputs(),
    'audit:',
    ...audit,
  ].join('\n');
}

async function burstAndKill(kill: () => Promise<Kill>): Promise<void> {
  const marks = historyMarks();
  const started = await post(`${anyController()}/v1/bursts`, {
    service: SERVICE,
    share: SHARE,
    steps: [0.1, SHARE],
    reason: 'HA drill',
  });
  expect(started.status).toBe(202);
  const id = started.body.id as string;
  await waitFor(() => routerShare() === 0.1, { timeoutMs: 60_000, message: 'the first step served' });
  await waitFor(() => quietBetweenSteps(id), {
    timeoutMs: 60_000,
    intervalMs: 100,
    message: "the first step's capacity and share jobs completed",
  });
  const calls = keepCalling();

  const { victim } = await kill();

  // Not lost: the survivors carry the same burst on to holding at its share.
  const holding = await waitFor(
    async () => {
      const body = await getJson(`${anyController()}/v1/bursts/${id}`);
      return body.phase === 'holding' ? body : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, message: `the burst holding after the kill of ${victim}` },
  );
  expect(holding).toMatchObject({ id, service: SERVICE, active: true, share: SHARE });
  expect(await leader()).toBeDefined();
  // Not doubled: one active burst, this one.
  const active = (await getJson(`${anyController()}/v1/bursts?active=true`)).bursts as Json[];
  expect(active.map((burst) => burst.id)).toEqual([id]);
  await waitFor(() => routerShare() === SHARE, { message: 'the routers’ policy at the share' });
  await waitFor(() => writesSince(marks).cloudWeights.at(-1) === Math.round(SHARE * 255), {
    timeoutMs: 30_000,
    message: 'the cloud DNS weight at the share',
  });

  // Each size and weight asked for once, going up only: capacity for 0.1 then 0.25
  // (1 then 3 replicas, on 1 then 2 nodes), and the DNS weight for each step.
  const writes = writesSince(marks);
  expect(writes.nodes).toEqual([1, 2]);
  expect(writes.replicas).toEqual([1, 3]);
  expect(writes.cloudWeights).toEqual([Math.round(0.1 * 255), Math.round(SHARE * 255)]);

  // The client never went without answers, and lands where the share says: on-prem only in its
  // own zone (dc1-b is its failover priority), the cloud's part near the share. 200 calls at 0.25
  // vary by ±0.03 (one standard deviation); a client still at 0.1 would not reach 0.17.
  const during = await calls.stop();
  expect(during.length).toBeGreaterThan(0);
  expect(during.filter((answer) => answer.startsWith('error:'))).toEqual([]);
  await waitFor(
    async () => {
      const part = await cloudPart(200);
      return part > 0.17 && part < 0.33;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: `the client's cloud part near ${SHARE}` },
  );

  // Back to idle for the next case: the abort releases traffic, then capacity.
  expect((await post(`${anyController()}/v1/bursts/${id}/abort`, { reason: 'HA drill done' })).status).toBe(202);
  await waitFor(async () => (await getJson(`${anyController()}/v1/bursts/${id}`)).active === false, {
    timeoutMs: 60_000,
    message: 'the burst ended',
  });
  await waitFor(() => world!.cloud.k8s.deployment('shop', 'checkout').replicas === 0, {
    timeoutMs: 60_000,
    message: 'replicas released',
  });
  await waitFor(() => routerShare() === 0, { message: 'the share back at 0' });
}

async function sigkill(process: WorldProcess): Promise<void> {
  process.child.kill('SIGKILL');
  await processExit(process.child);
}

describe('HA across processes: one federation, two controllers, two routers on one Redis (kill -9 each)', () => {
  it('the leader controller: the other one takes the lease and carries the burst on', async () => {
    await burstThroughKill(async () => {
      const victim = (await leader())!;
      await sigkill(victim.process);
      return { victim: 'the leader controller' };
    });
    controllers.push(await world!.startController(federationUrl, 'controller-3'));
  }, 180_000);

  it('the other controller: the leader goes on', async () => {
    await burstThroughKill(async () => {
      const leading = await leader();
      const victim = live(controllers).find((controller) => controller !== leading)!;
      await sigkill(victim.process);
      return { victim: 'the standby controller' };
    });
    controllers.push(await world!.startController(federationUrl, 'controller-4'));
  }, 180_000);

  it("the client's router: the client dials the other one and follows the burst there", async () => {
    const first = client!.routerPort;
    await burstThroughKill(async () => {
      const victim = routers.find((router) => router.xdsPort === first)!;
      await sigkill(victim.process);
      await waitFor(() => client!.routerPort !== first, { message: 'the client on the other router' });
      return { victim: "the client's router" };
    });
    const now = routers.find((router) => router.xdsPort === client!.routerPort)!;
    const { clients } = await getJson(`${now.url}/v1/xds/clients`);
    expect(clients.map((info: Json) => info.nodeId)).toContain(CLIENT_NODE);
    routers.push(await world!.startRouter(federationUrl, 'router-3'));
  }, 180_000);

  it('the federation: routers and controllers keep what they have, and follow it again once it is back', async () => {
    await burstThroughKill(async () => {
      await sigkill(federation!);
      return { victim: 'the federation' };
    });
    ({ process: federation } = await world!.startFederation({ name: 'federation-2', listen: federationListen }));
    for (const router of live(routers)) {
      await waitFor(async () => (await fetch(`${router.url}/readyz`)).status === 200, {
        timeoutMs: 30_000,
        message: `${router.url} ready after the federation came back`,
      });
    }
  }, 180_000);
});
