import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { FakeRoute53Api, WEIGHTED_FIXTURE } from '@spillway/test/fakes/route53-api';
import { fixtureJson } from '@spillway/test/fixtures';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudActionError, type DnsProgress, type DnsTarget, Route53DnsWeights } from '../src/index.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

// The botocore example's two weighted sets: Seattle plays on-prem, Portland plays cloud.
const target: DnsTarget = {
  hostedZoneId: 'Z3M3LMPEXAMPLE',
  recordName: 'example.com',
  type: 'A',
  onpremSetIdentifier: 'Seattle data center',
  cloudSetIdentifier: 'Portland data center',
};

describe('Route53DnsWeights', () => {
  let route53: FakeRoute53Api;
  let dns: Route53DnsWeights;

  beforeEach(async () => {
    route53 = await FakeRoute53Api.start();
    route53.seedWeightedExample();
    dns = new Route53DnsWeights({
      client: { endpoint: route53.url, credentials },
      pacing: { intervalMs: 5, timeoutMs: 20_000 },
    });
  });
  afterEach(async () => {
    dns.close();
    await route53.close();
  });

  it('sets both weights in one change batch, keeps every other field and waits for INSYNC', async () => {
    const seen: DnsProgress[] = [];
    const result = await dns.setWeights(target, { cloudWeight: 30, onpremWeight: 70 }, (p) => seen.push(p));

    expect(result.changed).toBe(true);
    expect(result.previous).toEqual({ cloudWeight: 200, onpremWeight: 100 });
    const accepted = route53.acceptedChanges();
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.changes?.map((c) => `${c.action} ${c.recordSet.SetIdentifier} ${c.recordSet.Weight}`)).toEqual([
      'UPSERT Seattle data center 70',
      'UPSERT Portland data center 30',
    ]);
    // Everything but Weight is what the fixture created: values, TTL, health check.
    const [seattle, portland] = WEIGHTED_FIXTURE.input.ChangeBatch.Changes.map((c) => c.ResourceRecordSet);
    expect(route53.record('Z3M3LMPEXAMPLE', 'example.com', 'A', 'Seattle data center')).toEqual({
      ...seattle,
      Name: 'example.com.',
      Weight: 70,
    });
    expect(route53.record('Z3M3LMPEXAMPLE', 'example.com', 'A', 'Portland data center')).toEqual({
      ...portland,
      Name: 'example.com.',
      Weight: 30,
    });
    // PENDING on submit and on the first GetChange, INSYNC on the second (insyncAfterPolls = 2).
    expect(route53.requestsFor('GetChange')).toHaveLength(2);
    expect(route53.change(result.changeId ?? '')?.status).toBe('INSYNC');
    expect(seen.map((p) => p.phase)).toEqual(['read', 'submitted', 'pending', 'pending', 'insync']);
    expect(seen[1]?.changeId).toMatch(/^\/change\/C[0-9A-Z]+$/);
  });

  it('is idempotent: weights already set means no ChangeResourceRecordSets and no GetChange', async () => {
    await dns.setWeights(target, { cloudWeight: 30, onpremWeight: 70 });
    const again = await dns.setWeights(target, { cloudWeight: 30, onpremWeight: 70 });

    expect(again).toEqual({ changed: false, previous: { cloudWeight: 30, onpremWeight: 70 } });
    expect(route53.requestsFor('ChangeResourceRecordSets')).toHaveLength(1);
    expect(route53.requestsFor('GetChange')).toHaveLength(2);
    expect(route53.requestsFor('ListResourceRecordSets')).toHaveLength(2);
  });

  it('reads only the record asked for, though the list runs on past it (NS, SOA, other names)', async () => {
    route53.putRecord('Z3M3LMPEXAMPLE', {
      Name: 'www.example.com',
      Type: 'A',
      SetIdentifier: 'Seattle data center',
      Weight: 1,
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.99' }],
    });

    await dns.setWeights(target, { cloudWeight: 0, onpremWeight: 255 });

    const list = route53.requestsFor('ListResourceRecordSets')[0];
    expect(list?.query).toMatchObject({ name: 'example.com', type: 'A' });
    expect(route53.acceptedChanges()[0]?.changes?.map((c) => c.recordSet.Name)).toEqual([
      'example.com.',
      'example.com.',
    ]);
    expect(route53.record('Z3M3LMPEXAMPLE', 'www.example.com', 'A', 'Seattle data center')?.Weight).toBe(1);
  });

  it('keeps alias targets of weighted alias sets', async () => {
    const alias = fixtureJson<{
      input: {
        HostedZoneId: string;
        ChangeBatch: { Changes: { ResourceRecordSet: Parameters<FakeRoute53Api['putRecord']>[1] }[] };
      };
    }>('aws-route53-changeresourcerecordsets.weighted-alias.botocore-example.json');
    route53.addHostedZone('ZALIAS', 'example.org');
    for (const { ResourceRecordSet } of alias.input.ChangeBatch.Changes) {
      route53.putRecord('ZALIAS', { ...ResourceRecordSet, Name: 'example.org' });
    }
    const aliasTarget: DnsTarget = {
      hostedZoneId: 'ZALIAS',
      recordName: 'example.org',
      onpremSetIdentifier: 'Ohio region',
      cloudSetIdentifier: 'Oregon region',
    };

    await dns.setWeights(aliasTarget, { cloudWeight: 10, onpremWeight: 90 });

    expect(route53.record('ZALIAS', 'example.org', 'A', 'Oregon region')).toEqual({
      Name: 'example.org.',
      Type: 'A',
      SetIdentifier: 'Oregon region',
      Weight: 10,
      AliasTarget: {
        DNSName: 'example-com-987654321.us-west-2.elb.amazonaws.com.',
        EvaluateTargetHealth: true,
        HostedZoneId: 'Z1H1FL5HABSF5',
      },
    });
  });

  it('retries PriorRequestNotComplete and throttling with backoff, and still sends one batch', async () => {
    // No SDK retries: the adapter's own backoff has to carry it.
    const bare = new Route53DnsWeights({
      client: { endpoint: route53.url, credentials, maxAttempts: 1 },
      pacing: { intervalMs: 5, timeoutMs: 20_000 },
    });
    try {
      route53.throttleNext(2);
      route53.priorRequestNotCompleteNext(3);

      await expect(bare.setWeights(target, { cloudWeight: 50, onpremWeight: 50 })).resolves.toMatchObject({
        changed: true,
      });

      expect(route53.requestsFor('ListResourceRecordSets').map((r) => r.errorCode ?? r.status)).toEqual([
        'Throttling',
        'Throttling',
        200,
      ]);
      expect(route53.requestsFor('ChangeResourceRecordSets').map((r) => r.errorCode ?? r.status)).toEqual([
        'PriorRequestNotComplete',
        'PriorRequestNotComplete',
        'PriorRequestNotComplete',
        200,
      ]);
      expect(route53.record('Z3M3LMPEXAMPLE', 'example.com', 'A', 'Portland data center')?.Weight).toBe(50);
    } finally {
      bare.close();
    }
  });

  it('lets the SDK retry a throttled call by itself', async () => {
    route53.throttleNext(1);
    await dns.setWeights(target, { cloudWeight: 1, onpremWeight: 2 });
    expect(route53.requests[0]?.errorCode).toBe('Throttling');
    expect(route53.acceptedChanges()).toHaveLength(1);
  });

  it('reports InvalidChangeBatch as a final, one-line typed error', async () => {
    // Between our read and our change, someone replaces the weighted sets with a simple record.
    const error = await dns
      .setWeights(target, { cloudWeight: 1, onpremWeight: 1 }, (progress) => {
        if (progress.phase !== 'read') return;
        const zone = route53.records('Z3M3LMPEXAMPLE').filter((set) => set.Type === 'A');
        for (const set of zone) route53.removeRecord('Z3M3LMPEXAMPLE', set.Name, set.Type, set.SetIdentifier);
        route53.putRecord('Z3M3LMPEXAMPLE', {
          Name: 'example.com',
          Type: 'A',
          TTL: 60,
          ResourceRecords: [{ Value: '192.0.2.1' }],
        });
      })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CloudActionError);
    expect(error).toMatchObject({
      action: 'set-dns-weights',
      target: 'Z3M3LMPEXAMPLE/example.com A',
      retryable: false,
      code: 'InvalidChangeBatch',
    });
    const message = (error as Error).message;
    expect(message).toMatch(
      /^set-dns-weights Z3M3LMPEXAMPLE\/example.com A: ChangeResourceRecordSets: InvalidChangeBatch: \[RRSet with DNS name example.com., type A, SetIdentifier Seattle data center cannot be created as a non-weighted set exists/,
    );
    expect(message).not.toContain('\n');
    expect(route53.requestsFor('GetChange')).toHaveLength(0);
  });

  it('refuses a record without the named weighted sets, and bad weights, before changing anything', async () => {
    await expect(
      dns.setWeights({ ...target, cloudSetIdentifier: 'Mars' }, { cloudWeight: 1, onpremWeight: 1 }),
    ).rejects.toMatchObject({
      retryable: false,
      code: 'NoSuchRecordSet',
      message: expect.stringContaining(
        'no weighted set "Mars" for this record (sets found: Portland data center, Seattle data center)',
      ),
    });
    await expect(dns.setWeights(target, { cloudWeight: 256, onpremWeight: 1 })).rejects.toMatchObject({
      retryable: false,
    });
    await expect(
      dns.setWeights({ ...target, hostedZoneId: 'ZNOPE' }, { cloudWeight: 1, onpremWeight: 1 }),
    ).rejects.toMatchObject({
      retryable: false,
      code: 'NoSuchHostedZone',
    });
    expect(route53.requestsFor('ChangeResourceRecordSets')).toHaveLength(0);
  });

  it('gives up waiting for INSYNC at its deadline with a retryable error', async () => {
    route53.insyncAfterPolls = 'manual';
    const quick = new Route53DnsWeights({
      client: { endpoint: route53.url, credentials },
      pacing: { intervalMs: 5, timeoutMs: 150 },
    });
    try {
      const error = await quick.setWeights(target, { cloudWeight: 5, onpremWeight: 5 }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        retryable: true,
        code: 'Timeout',
        message: expect.stringContaining('to be INSYNC'),
      });
      expect(route53.acceptedChanges()).toHaveLength(1);
    } finally {
      quick.close();
    }
  });
});

describe('FakeRoute53Api change batches', () => {
  let route53: FakeRoute53Api;
  let client: Route53Client;

  beforeEach(async () => {
    route53 = await FakeRoute53Api.start();
    route53.seedWeightedExample();
    client = new Route53Client({ region: 'us-east-1', endpoint: route53.url, credentials, maxAttempts: 1 });
  });
  afterEach(async () => {
    client.destroy();
    await route53.close();
  });

  const send = (changes: Change[]) =>
    client.send(
      new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z3M3LMPEXAMPLE', ChangeBatch: { Changes: changes } }),
    );

  it('rejects DELETE of a missing set and a weighted UPSERT without SetIdentifier, atomically', async () => {
    const before = route53.records('Z3M3LMPEXAMPLE');
    const error = await send([
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: 'example.com',
          Type: 'A',
          SetIdentifier: 'Seattle data center',
          Weight: 1,
          TTL: 60,
          ResourceRecords: [{ Value: '192.0.2.44' }],
        },
      },
      {
        Action: 'DELETE',
        ResourceRecordSet: { Name: 'gone.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] },
      },
      {
        Action: 'UPSERT',
        ResourceRecordSet: { Name: 'example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.2' }] },
      },
    ]).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'InvalidChangeBatch', $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toBe(
      "[Tried to delete resource record set [name='gone.example.com.', type='A'] but it was not found, RRSet with DNS name example.com., type A cannot be created as weighted sets exist with the same name and type.]",
    );
    expect(route53.records('Z3M3LMPEXAMPLE')).toEqual(before); // the valid first change was not applied either
  });

  it('answers PENDING, then INSYNC after the configured polls, and NoSuchChange for unknown ids', async () => {
    const submitted = await send(
      WEIGHTED_FIXTURE.input.ChangeBatch.Changes.map(
        (change): Change => ({
          Action: 'UPSERT',
          ResourceRecordSet: { ...change.ResourceRecordSet, Type: 'A', Weight: 9 },
        }),
      ),
    );
    expect(submitted.ChangeInfo).toMatchObject({ Status: 'PENDING', Id: expect.stringMatching(/^\/change\//) });
    expect(submitted.ChangeInfo?.SubmittedAt).toBeInstanceOf(Date);
    const poll = () => client.send(new GetChangeCommand({ Id: submitted.ChangeInfo?.Id ?? '' }));
    expect((await poll()).ChangeInfo?.Status).toBe('PENDING');
    expect((await poll()).ChangeInfo?.Status).toBe('INSYNC');
    await expect(client.send(new GetChangeCommand({ Id: 'CNOPE' }))).rejects.toMatchObject({ name: 'NoSuchChange' });
  });
});
