import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
// The AWS SDK's own XML reader and writer (what @aws-sdk/client-route-53 uses on its side of the wire).
import { parseXML, XmlNode } from '@aws-sdk/xml-builder';
import { fixtureJson } from '../fixtures/index.js';

/**
 * A fake of the Route 53 REST-XML API (2013-04-01) for what weighted routing needs:
 * ChangeResourceRecordSets (`POST /2013-04-01/hostedzone/{Id}/rrset`, a
 * ChangeResourceRecordSetsRequest XML body), ListResourceRecordSets
 * (`GET /2013-04-01/hostedzone/{Id}/rrset?name=&type=&identifier=&maxitems=`) and GetChange
 * (`GET /2013-04-01/change/{Id}`).
 *
 * Semantics followed from the API reference:
 * - a change batch is validated as a whole and applied atomically, or not at all
 *   (InvalidChangeBatch lists every problem, like Route 53's `[msg, msg]` message);
 * - CREATE of an existing set, DELETE of a missing one or with other values, a weighted set
 *   without SetIdentifier (or a SetIdentifier without Weight), and a non-weighted set beside
 *   weighted ones are InvalidChangeBatch;
 * - names are stored as absolute, lower-case FQDNs (trailing dot); a list starts at the given
 *   name/type/identifier and runs on through the zone in Route 53's order (labels reversed, then
 *   type, then SetIdentifier), so a caller must filter what it asked for; `maxitems` pages with
 *   IsTruncated and NextRecordName/Type/Identifier;
 * - a change is PENDING and becomes INSYNC after `insyncAfterPolls` GetChange calls (or when the
 *   test calls `syncAll`); an unknown change id is 404 NoSuchChange;
 * - errors are `<ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/>`:
 *   400 InvalidChangeBatch, 400 PriorRequestNotComplete (programmed: `priorRequestNotCompleteNext`),
 *   400 Throttling (programmed: `throttleNext`), 404 NoSuchHostedZone, 400 InvalidInput.
 * Requests must carry a SigV4 Authorization header for the expected access key.
 *
 * Not modelled: alias-target existence checks, health-check existence, traffic policies, record
 * types other than those a test writes, the 1000-item/32000-char batch limits.
 */

const NAMESPACE = 'https://route53.amazonaws.com/doc/2013-04-01/';

export interface FakeAliasTarget {
  HostedZoneId: string;
  DNSName: string;
  EvaluateTargetHealth: boolean;
}

/** A resource record set in the SDK's field names (what the botocore examples use). */
export interface FakeRecordSet {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  Weight?: number;
  TTL?: number;
  ResourceRecords?: { Value: string }[];
  AliasTarget?: FakeAliasTarget;
  HealthCheckId?: string;
}

export interface FakeChange {
  readonly id: string;
  status: 'PENDING' | 'INSYNC';
  readonly submittedAt: string;
  readonly comment: string | undefined;
  polls: number;
}

export interface Route53RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** ChangeResourceRecordSets, ListResourceRecordSets, GetChange or Unknown. */
  readonly operation: string;
  status: number;
  errorCode?: string;
  /** ChangeResourceRecordSets: the batch as the fake understood it. */
  changes?: { action: string; recordSet: FakeRecordSet }[];
}

type ChangeAction = 'CREATE' | 'DELETE' | 'UPSERT';

interface WeightedFixture {
  input: {
    HostedZoneId: string;
    ChangeBatch: { Comment: string; Changes: { Action: ChangeAction; ResourceRecordSet: FakeRecordSet }[] };
  };
  output: { ChangeInfo: { Id: string; Status: string; SubmittedAt: string; Comment: string } };
}

/** The botocore "To create weighted resource record sets" example (two weighted A sets). */
export const WEIGHTED_FIXTURE = fixtureJson<WeightedFixture>(
  'aws-route53-changeresourcerecordsets.weighted.botocore-example.json',
);

class Route53Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class FakeRoute53Api {
  readonly requests: Route53RequestRecord[] = [];
  /** GetChange polls a change stays PENDING for before it is INSYNC; `'manual'`: until `syncAll`. */
  insyncAfterPolls: number | 'manual' = 2;
  private readonly zones = new Map<string, { name: string; records: FakeRecordSet[] }>();
  private readonly changes = new Map<string, FakeChange>();
  private throttles = 0;
  private priorRequestNotComplete = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly accessKeyId: string,
  ) {}

  static async start(options: { accessKeyId?: string } = {}): Promise<FakeRoute53Api> {
    let api: FakeRoute53Api | undefined;
    const server = createServer((request, response) => api?.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    api = new FakeRoute53Api(server, `http://127.0.0.1:${port}`, options.accessKeyId ?? 'AKIDEXAMPLE');
    return api;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A hosted zone with its apex NS and SOA sets, as Route 53 creates it. */
  addHostedZone(id: string, name: string): void {
    const apex = absolute(name);
    this.zones.set(id, {
      name: apex,
      records: [
        {
          Name: apex,
          Type: 'NS',
          TTL: 172800,
          ResourceRecords: [{ Value: 'ns-2048.awsdns-64.com.' }, { Value: 'ns-2049.awsdns-65.net.' }],
        },
        {
          Name: apex,
          Type: 'SOA',
          TTL: 900,
          ResourceRecords: [{ Value: 'ns-2048.awsdns-64.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400' }],
        },
      ],
    });
  }

  /**
   * The zone of the weighted botocore example (Z3M3LMPEXAMPLE, example.com) with its two
   * weighted A sets ("Seattle data center" 100, "Portland data center" 200) applied.
   */
  seedWeightedExample(): { hostedZoneId: string; recordName: string; setIdentifiers: [string, string] } {
    const { HostedZoneId, ChangeBatch } = WEIGHTED_FIXTURE.input;
    this.addHostedZone(HostedZoneId, 'example.com');
    for (const change of ChangeBatch.Changes) this.putRecord(HostedZoneId, change.ResourceRecordSet);
    const [first, second] = ChangeBatch.Changes.map((change) => change.ResourceRecordSet.SetIdentifier ?? '');
    return { hostedZoneId: HostedZoneId, recordName: 'example.com', setIdentifiers: [first ?? '', second ?? ''] };
  }

  /** Writes a set directly (test setup), replacing the one with the same name/type/identifier. */
  putRecord(zoneId: string, recordSet: FakeRecordSet): void {
    const zone = this.zone(zoneId);
    const stored = normalise(recordSet);
    const index = zone.records.findIndex((existing) => sameSet(existing, stored));
    if (index >= 0) zone.records[index] = stored;
    else zone.records.push(stored);
  }

  /** Removes a set directly (test setup), as another writer would. */
  removeRecord(zoneId: string, name: string, type: string, setIdentifier?: string): void {
    const zone = this.zone(zoneId);
    const key: FakeRecordSet = {
      Name: absolute(name),
      Type: type,
      ...(setIdentifier ? { SetIdentifier: setIdentifier } : {}),
    };
    zone.records = zone.records.filter((set) => !sameSet(set, key));
  }

  /** The zone's sets in Route 53's list order (copies). */
  records(zoneId: string): FakeRecordSet[] {
    return sortSets(this.zone(zoneId).records).map((set) => structuredClone(set));
  }

  /** One set by name, type and identifier (a copy), if present. */
  record(zoneId: string, name: string, type: string, setIdentifier?: string): FakeRecordSet | undefined {
    const found = this.zone(zoneId).records.find((set) =>
      sameSet(set, { Name: absolute(name), Type: type, ...(setIdentifier ? { SetIdentifier: setIdentifier } : {}) }),
    );
    return found ? structuredClone(found) : undefined;
  }

  change(id: string): FakeChange | undefined {
    return this.changes.get(id.replace(/^\/change\//, ''));
  }

  /** Every PENDING change becomes INSYNC now. */
  syncAll(): void {
    for (const change of this.changes.values()) change.status = 'INSYNC';
  }

  /** The next `count` requests get 400 Throttling ("Rate exceeded"). */
  throttleNext(count: number): void {
    this.throttles += count;
  }

  /** The next `count` ChangeResourceRecordSets get 400 PriorRequestNotComplete. */
  priorRequestNotCompleteNext(count: number): void {
    this.priorRequestNotComplete += count;
  }

  /** Requests for one operation (ChangeResourceRecordSets, ListResourceRecordSets, GetChange). */
  requestsFor(operation: string): Route53RequestRecord[] {
    return this.requests.filter((record) => record.operation === operation);
  }

  /** ChangeResourceRecordSets calls that the fake accepted (HTTP 200). */
  acceptedChanges(): Route53RequestRecord[] {
    return this.requestsFor('ChangeResourceRecordSets').filter((record) => record.status === 200);
  }

  private zone(id: string): { name: string; records: FakeRecordSet[] } {
    const zone = this.zones.get(id.replace(/^\/hostedzone\//, ''));
    if (!zone) throw new Route53Error(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
    return zone;
  }

  // ---- HTTP ---------------------------------------------------------------------------

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => this.dispatch(request, response, Buffer.concat(chunks).toString('utf8')));
  }

  // Returns whatever reply() returns so that early exits read `return reply(…)`.
  private dispatch(request: IncomingMessage, response: ServerResponse, body: string) {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const rrset = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(url.pathname);
    const change = /^\/2013-04-01\/change\/([^/]+)$/.exec(url.pathname);
    const operation =
      rrset && method === 'POST'
        ? 'ChangeResourceRecordSets'
        : rrset && method === 'GET'
          ? 'ListResourceRecordSets'
          : change && method === 'GET'
            ? 'GetChange'
            : 'Unknown';
    const record: Route53RequestRecord = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      operation,
      status: 0,
    };
    this.requests.push(record);
    const reply = (status: number, node: XmlNode) => {
      record.status = status;
      response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
      response.end(`<?xml version="1.0"?>\n${node.toString()}`);
    };
    try {
      const auth = request.headers.authorization ?? '';
      if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/`) || !auth.includes('Signature=')) {
        throw new Route53Error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
      }
      if (this.throttles > 0) {
        this.throttles--;
        throw new Route53Error(400, 'Throttling', 'Rate exceeded');
      }
      const zoneId = decodeURIComponent(rrset?.[1] ?? '');
      if (operation === 'ChangeResourceRecordSets') return reply(200, this.changeRecordSets(zoneId, body, record));
      if (operation === 'ListResourceRecordSets') return reply(200, this.listRecordSets(zoneId, record.query));
      if (operation === 'GetChange') return reply(200, this.getChange(decodeURIComponent(change?.[1] ?? '')));
      throw new Route53Error(404, 'UnknownOperationException', `Unknown operation ${method} ${url.pathname}`);
    } catch (error) {
      const failure = error instanceof Route53Error ? error : new Route53Error(500, 'InternalFailure', String(error));
      record.errorCode = failure.code;
      reply(failure.status, errorNode(failure.code, failure.message));
    }
  }

  private changeRecordSets(zoneId: string, body: string, record: Route53RequestRecord): XmlNode {
    const zone = this.zone(zoneId);
    const batch = parseChangeBatch(body);
    record.changes = batch.changes;
    if (this.priorRequestNotComplete > 0) {
      this.priorRequestNotComplete--;
      throw new Route53Error(
        400,
        'PriorRequestNotComplete',
        'The request was rejected because Route 53 was still processing a prior request.',
      );
    }
    // Validate the whole batch against the zone as it would be after each change, then commit.
    const working = zone.records.map((set) => structuredClone(set));
    const problems: string[] = [];
    for (const { action, recordSet } of batch.changes) {
      const set = normalise(recordSet);
      const label = describeSet(set);
      if (!set.Name.endsWith(zone.name)) {
        problems.push(`RRSet with DNS name ${set.Name} is not permitted in zone ${zone.name}`);
        continue;
      }
      if ((set.Weight === undefined) !== (set.SetIdentifier === undefined)) {
        problems.push(
          set.SetIdentifier === undefined
            ? `Invalid request: Missing field 'SetIdentifier' in Change with [Action=${action}, Name=${set.Name}, Type=${set.Type}]`
            : `Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer], but found none in Change with [Action=${action}, Name=${set.Name}, Type=${set.Type}, SetIdentifier=${set.SetIdentifier}]`,
        );
        continue;
      }
      if (set.Weight !== undefined && (!Number.isInteger(set.Weight) || set.Weight < 0 || set.Weight > 255)) {
        problems.push(`Invalid request: Weight must be between 0 and 255 in Change for ${label}`);
        continue;
      }
      if (!set.AliasTarget && (set.TTL === undefined || (set.ResourceRecords ?? []).length === 0)) {
        problems.push(`Invalid request: Expected TTL and ResourceRecords or an AliasTarget for ${label}`);
        continue;
      }
      const index = working.findIndex((existing) => sameSet(existing, set));
      const siblings = working.filter((existing) => existing.Name === set.Name && existing.Type === set.Type);
      if (action === 'DELETE') {
        if (index < 0) problems.push(`Tried to delete resource record set ${label} but it was not found`);
        else if (!sameValues(working[index], set))
          problems.push(
            `Tried to delete resource record set ${label} but the values provided do not match the current values`,
          );
        else working.splice(index, 1);
        continue;
      }
      if (action === 'CREATE' && index >= 0) {
        problems.push(`Tried to create resource record set ${label} but it already exists`);
        continue;
      }
      const mixed = siblings.some(
        (existing) => (existing.SetIdentifier === undefined) !== (set.SetIdentifier === undefined),
      );
      if (mixed) {
        problems.push(
          set.SetIdentifier === undefined
            ? `RRSet with DNS name ${set.Name}, type ${set.Type} cannot be created as weighted sets exist with the same name and type.`
            : `RRSet with DNS name ${set.Name}, type ${set.Type}, SetIdentifier ${set.SetIdentifier} cannot be created as a non-weighted set exists with the same name and type.`,
        );
        continue;
      }
      if (index >= 0) working[index] = set;
      else working.push(set);
    }
    if (problems.length > 0) throw new Route53Error(400, 'InvalidChangeBatch', `[${problems.join(', ')}]`);
    zone.records = working;
    const info: FakeChange = {
      id: `C${randomUUID().replace(/-/g, '').slice(0, 13).toUpperCase()}`,
      status: 'PENDING',
      submittedAt: new Date().toISOString(),
      comment: batch.comment,
      polls: 0,
    };
    this.changes.set(info.id, info);
    return new XmlNode('ChangeResourceRecordSetsResponse', [changeInfoNode(info)]).addAttribute('xmlns', NAMESPACE);
  }

  private getChange(id: string): XmlNode {
    const info = this.changes.get(id.replace(/^\/change\//, ''));
    if (!info)
      throw new Route53Error(404, 'NoSuchChange', `A change with the specified change ID does not exist: ${id}`);
    info.polls++;
    if (info.status === 'PENDING' && this.insyncAfterPolls !== 'manual' && info.polls >= this.insyncAfterPolls) {
      info.status = 'INSYNC';
    }
    return new XmlNode('GetChangeResponse', [changeInfoNode(info)]).addAttribute('xmlns', NAMESPACE);
  }

  private listRecordSets(zoneId: string, query: Record<string, string>): XmlNode {
    const zone = this.zone(zoneId);
    if (query.type && !query.name)
      throw new Route53Error(400, 'InvalidInput', 'The input is not valid: name is required when type is given');
    if (query.identifier && !query.type) {
      throw new Route53Error(400, 'InvalidInput', 'The input is not valid: type is required when identifier is given');
    }
    const maxItems = Math.min(Number(query.maxitems) > 0 ? Number(query.maxitems) : 300, 300);
    const sorted = sortSets(zone.records);
    const start: FakeRecordSet | undefined = query.name
      ? {
          Name: absolute(query.name),
          Type: query.type ?? '',
          ...(query.identifier ? { SetIdentifier: query.identifier } : {}),
        }
      : undefined;
    const from = start ? sorted.findIndex((set) => compareSets(set, start) >= 0) : 0;
    const rest = from < 0 ? [] : sorted.slice(from);
    const page = rest.slice(0, maxItems);
    const next = rest[maxItems];
    const node = new XmlNode('ListResourceRecordSetsResponse').addAttribute('xmlns', NAMESPACE);
    node.addChildNode(new XmlNode('ResourceRecordSets', page.map(recordSetNode)));
    node.addChildNode(XmlNode.of('IsTruncated', String(next !== undefined)));
    if (next) {
      node.addChildNode(XmlNode.of('NextRecordName', next.Name));
      node.addChildNode(XmlNode.of('NextRecordType', next.Type));
      if (next.SetIdentifier) node.addChildNode(XmlNode.of('NextRecordIdentifier', next.SetIdentifier));
    }
    node.addChildNode(XmlNode.of('MaxItems', String(maxItems)));
    return node;
  }
}

// ---- XML ------------------------------------------------------------------------------

function errorNode(code: string, message: string): XmlNode {
  return new XmlNode('ErrorResponse', [
    new XmlNode('Error', [XmlNode.of('Type', 'Sender'), XmlNode.of('Code', code), XmlNode.of('Message', message)]),
    XmlNode.of('RequestId', randomUUID()),
  ]).addAttribute('xmlns', NAMESPACE);
}

function changeInfoNode(info: FakeChange): XmlNode {
  const node = new XmlNode('ChangeInfo', [
    XmlNode.of('Id', `/change/${info.id}`),
    XmlNode.of('Status', info.status),
    XmlNode.of('SubmittedAt', info.submittedAt),
  ]);
  if (info.comment !== undefined) node.addChildNode(XmlNode.of('Comment', info.comment));
  return node;
}

function recordSetNode(set: FakeRecordSet): XmlNode {
  const node = new XmlNode('ResourceRecordSet', [XmlNode.of('Name', set.Name), XmlNode.of('Type', set.Type)]);
  if (set.SetIdentifier !== undefined) node.addChildNode(XmlNode.of('SetIdentifier', set.SetIdentifier));
  if (set.Weight !== undefined) node.addChildNode(XmlNode.of('Weight', String(set.Weight)));
  if (set.TTL !== undefined) node.addChildNode(XmlNode.of('TTL', String(set.TTL)));
  if (set.ResourceRecords) {
    node.addChildNode(
      new XmlNode(
        'ResourceRecords',
        set.ResourceRecords.map((rr) => new XmlNode('ResourceRecord', [XmlNode.of('Value', rr.Value)])),
      ),
    );
  }
  if (set.AliasTarget) {
    node.addChildNode(
      new XmlNode('AliasTarget', [
        XmlNode.of('HostedZoneId', set.AliasTarget.HostedZoneId),
        XmlNode.of('DNSName', set.AliasTarget.DNSName),
        XmlNode.of('EvaluateTargetHealth', String(set.AliasTarget.EvaluateTargetHealth)),
      ]),
    );
  }
  if (set.HealthCheckId !== undefined) node.addChildNode(XmlNode.of('HealthCheckId', set.HealthCheckId));
  return node;
}

/** A parsed XML element as the SDK's reader returns it: text, or children by name (repeated → array). */
type XmlValue = string | { [name: string]: XmlValue | XmlValue[] };

function child(value: XmlValue | XmlValue[] | undefined, name: string): XmlValue | XmlValue[] | undefined {
  return value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value[name] : undefined;
}

function text(value: XmlValue | XmlValue[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function list(value: XmlValue | XmlValue[] | undefined): XmlValue[] {
  if (value === undefined || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

function parseChangeBatch(body: string): {
  comment: string | undefined;
  changes: { action: ChangeAction; recordSet: FakeRecordSet }[];
} {
  let root: XmlValue | XmlValue[] | undefined;
  try {
    // parseXML is typed `any`; the shape is checked field by field below.
    root = child(parseXML(body) as XmlValue, 'ChangeResourceRecordSetsRequest');
  } catch (error) {
    throw new Route53Error(400, 'MalformedInput', `Unexpected XML: ${(error as Error).message}`);
  }
  const batch = child(root, 'ChangeBatch');
  if (!batch)
    throw new Route53Error(400, 'MalformedInput', 'ChangeBatch is not valid, expected ChangeResourceRecordSetsRequest');
  const changes = list(child(child(batch, 'Changes'), 'Change')).map(
    (change): { action: ChangeAction; recordSet: FakeRecordSet } => {
      const action = text(child(change, 'Action'));
      if (action !== 'CREATE' && action !== 'DELETE' && action !== 'UPSERT') {
        throw new Route53Error(
          400,
          'InvalidInput',
          `Invalid XML ; Action ${String(action)} is not one of CREATE, DELETE, UPSERT`,
        );
      }
      const set = child(change, 'ResourceRecordSet');
      const name = text(child(set, 'Name'));
      const type = text(child(set, 'Type'));
      if (!name || !type)
        throw new Route53Error(400, 'InvalidInput', 'Invalid XML ; ResourceRecordSet needs Name and Type');
      const recordSet: FakeRecordSet = { Name: name, Type: type };
      const setIdentifier = text(child(set, 'SetIdentifier'));
      if (setIdentifier !== undefined) recordSet.SetIdentifier = setIdentifier;
      const weight = text(child(set, 'Weight'));
      if (weight !== undefined) recordSet.Weight = Number(weight);
      const ttl = text(child(set, 'TTL'));
      if (ttl !== undefined) recordSet.TTL = Number(ttl);
      const values = list(child(child(set, 'ResourceRecords'), 'ResourceRecord'));
      if (values.length > 0)
        recordSet.ResourceRecords = values.map((rr) => ({ Value: text(child(rr, 'Value')) ?? '' }));
      const alias = child(set, 'AliasTarget');
      if (alias) {
        recordSet.AliasTarget = {
          HostedZoneId: text(child(alias, 'HostedZoneId')) ?? '',
          DNSName: text(child(alias, 'DNSName')) ?? '',
          EvaluateTargetHealth: text(child(alias, 'EvaluateTargetHealth')) === 'true',
        };
      }
      const healthCheck = text(child(set, 'HealthCheckId'));
      if (healthCheck !== undefined) recordSet.HealthCheckId = healthCheck;
      return { action, recordSet };
    },
  );
  if (changes.length === 0) {
    throw new Route53Error(400, 'InvalidInput', "Invalid XML ; The content of element 'Changes' is not complete.");
  }
  return { comment: text(child(batch, 'Comment')), changes };
}

// ---- record sets ----------------------------------------------------------------------

/** Absolute, lower-case DNS name (Route 53 answers with the trailing dot). */
function absolute(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function normalise(set: FakeRecordSet): FakeRecordSet {
  const copy = structuredClone(set);
  copy.Name = absolute(set.Name);
  if (copy.AliasTarget) copy.AliasTarget.DNSName = absolute(copy.AliasTarget.DNSName);
  return copy;
}

function sameSet(a: FakeRecordSet, b: FakeRecordSet): boolean {
  return a.Name === b.Name && a.Type === b.Type && (a.SetIdentifier ?? '') === (b.SetIdentifier ?? '');
}

function sameValues(a: FakeRecordSet | undefined, b: FakeRecordSet): boolean {
  return a !== undefined && JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(set: FakeRecordSet): unknown[] {
  return [
    set.Name,
    set.Type,
    set.SetIdentifier ?? null,
    set.Weight ?? null,
    set.TTL ?? null,
    (set.ResourceRecords ?? []).map((rr) => rr.Value).sort(),
    set.AliasTarget ?? null,
    set.HealthCheckId ?? null,
  ];
}

function describeSet(set: FakeRecordSet): string {
  const id = set.SetIdentifier !== undefined ? `, set-identifier='${set.SetIdentifier}'` : '';
  return `[name='${set.Name}', type='${set.Type}'${id}]`;
}

/** Route 53's list order: name with its labels reversed (com.example.www), then type, then identifier. */
function compareSets(a: FakeRecordSet, b: FakeRecordSet): number {
  const byName = reversedLabels(a.Name).localeCompare(reversedLabels(b.Name));
  if (byName !== 0) return byName;
  const byType = a.Type.localeCompare(b.Type);
  if (byType !== 0) return byType;
  return (a.SetIdentifier ?? '').localeCompare(b.SetIdentifier ?? '');
}

function reversedLabels(name: string): string {
  return name.replace(/\.$/, '').split('.').reverse().join('.');
}

function sortSets(sets: readonly FakeRecordSet[]): FakeRecordSet[] {
  return [...sets].sort(compareSets);
}
