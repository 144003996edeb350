import type protobuf from 'protobufjs';
import type {
  AnyMessage,
  DeltaDiscoveryResponseMessage,
  DeltaResourceMessage,
  DiscoveryResponseMessage,
} from './discovery-messages.js';
import { envoyProtos } from './envoy-protos.js';

/** A resource's `resources` entry of a response, encoded once for the bytes it carries. */
interface Entry {
  /** What else the entry carries besides the bytes: the type URL, and for Delta the name and version. */
  readonly typeUrl: string;
  readonly name: string;
  readonly version: string;
  readonly bytes: Uint8Array;
}

/**
 * Keyed by the resource's encoded bytes, which the view cache shares between every response
 * that carries the resource: each resource is wrapped (Any, Delta Resource) once, not once per
 * response. Dropped with the bytes.
 */
const sotwEntries = new WeakMap<Uint8Array, Entry>();
const deltaEntries = new WeakMap<Uint8Array, Entry>();

/**
 * Encodes a DiscoveryResponse as its scalar fields followed by each resource's cached entry
 * (protobuf allows a message's fields in any order, and repeated ones as separate entries):
 * one copy of the resource bytes per response, instead of protobufjs re-building and
 * re-writing every Any.
 *
 * The result is a view of a scratch buffer that the next call overwrites. That is all gRPC
 * needs: @grpc/grpc-js copies a serialized response into its framed message at once
 * (`serializeMessage`: allocUnsafe, then copy) and keeps nothing else of it. A response of
 * 100 KB (30 assignments) then costs one allocation, not two: at 5,000 streams the periodic
 * re-send is 470 MB of buffers, and every allocation of that size brings garbage collection
 * closer. Callers that keep the bytes must copy them.
 */
export function encodeDiscoveryResponse(message: DiscoveryResponseMessage): Buffer {
  const fields = sotwFields();
  const strings: StringField[] = [
    [fields.version, message.version_info],
    [fields.nonce, message.nonce],
  ];
  const parts: Uint8Array[] = [perTypeFields('sotw', message)];
  for (const any of message.resources) {
    parts.push(cached(sotwEntries, any.value, any.type_url, '', '', sotwEntry, any));
  }
  return joined(strings, parts);
}

/** The same for a DeltaDiscoveryResponse and its Resource entries (name, version, Any); the same scratch buffer. */
export function encodeDeltaDiscoveryResponse(message: DeltaDiscoveryResponseMessage): Buffer {
  const fields = deltaFields();
  const strings: StringField[] = [
    [fields.version, message.system_version_info],
    [fields.nonce, message.nonce],
  ];
  for (const name of message.removed_resources) strings.push([fields.removed, name, true]);
  const parts: Uint8Array[] = [perTypeFields('delta', message)];
  for (const resource of message.resources) {
    const { name, version } = resource;
    const typeUrl = resource.resource.type_url;
    parts.push(cached(deltaEntries, resource.resource.value, typeUrl, name, version, deltaEntry, resource));
  }
  return joined(strings, parts);
}

/** Field numbers of a response's per-response fields, read from the protos. */
interface ResponseFields {
  readonly version: number;
  readonly nonce: number;
  /** Delta's `removed_resources`; SotW has none. */
  readonly removed: number;
}

let sotwFieldNumbers: ResponseFields | undefined;
let deltaFieldNumbers: ResponseFields | undefined;

function sotwFields(): ResponseFields {
  const { fields } = envoyProtos().DiscoveryResponse;
  sotwFieldNumbers ??= { version: fields['version_info']!.id, nonce: fields['nonce']!.id, removed: 0 };
  return sotwFieldNumbers;
}

function deltaFields(): ResponseFields {
  const { fields } = envoyProtos().DeltaDiscoveryResponse;
  deltaFieldNumbers ??= {
    version: fields['system_version_info']!.id,
    nonce: fields['nonce']!.id,
    removed: fields['removed_resources']!.id,
  };
  return deltaFieldNumbers;
}

/** type_url and control_plane, the same in every response of a type: encoded once each, by protocol and type URL. */
const typeFieldCache = {
  sotw: new Map<string, TypeFields>(),
  delta: new Map<string, TypeFields>(),
};
interface TypeFields {
  readonly identifier: string | undefined;
  readonly bytes: Uint8Array;
}
const MAX_CACHED_TYPES = 16;

function perTypeFields(
  protocol: 'sotw' | 'delta',
  message: Pick<DiscoveryResponseMessage, 'type_url' | 'control_plane'>,
): Uint8Array {
  const identifier = message.control_plane?.identifier;
  const cache = typeFieldCache[protocol];
  const cached = cache.get(message.type_url);
  if (cached && cached.identifier === identifier) return cached.bytes;
  const { DiscoveryResponse, DeltaDiscoveryResponse } = envoyProtos();
  const type = protocol === 'sotw' ? DiscoveryResponse : DeltaDiscoveryResponse;
  const bytes = encode(type, {
    type_url: message.type_url,
    ...(message.control_plane ? { control_plane: message.control_plane } : {}),
  });
  // A client may name any type URL: only so many are kept (the served ones come first).
  if (cached || cache.size < MAX_CACHED_TYPES) cache.set(message.type_url, { identifier, bytes });
  return bytes;
}

/**
 * A string field written straight into the response: the version, the nonce, Delta's removed
 * names — what differs in every response. Building a message for them (protobufjs' fromObject
 * and encode, or its Writer) allocated more than the rest of a one-resource response.
 */
type StringField = readonly [field: number, value: string, repeated?: true];

/** A singular field left empty is left out, as proto3 allows (it decodes to the same default); a repeated one is kept. */
function written([, value, repeated]: StringField): boolean {
  return value !== '' || repeated === true;
}

const LENGTH_DELIMITED = 2;

/** Responses larger than this get a buffer of their own, so the scratch buffer stays small. */
const MAX_SCRATCH_BYTES = 4 * 2 ** 20;
let scratch = Buffer.allocUnsafe(256 * 1024);

/**
 * `strings`, then `parts`, one after the other, in the scratch buffer (valid until the next call).
 */
function joined(strings: readonly StringField[], parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const string of strings) if (written(string)) length += stringFieldLength(string[0], string[1]);
  for (const part of parts) length += part.byteLength;
  const target = length > MAX_SCRATCH_BYTES ? Buffer.allocUnsafe(length) : scratchOf(length);
  let offset = 0;
  for (const string of strings) if (written(string)) offset = writeStringField(target, offset, string[0], string[1]);
  for (const part of parts) {
    target.set(part, offset);
    offset += part.byteLength;
  }
  return target.subarray(0, length);
}

function scratchOf(length: number): Buffer {
  if (length > scratch.length) scratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH_BYTES, 2 * length));
  return scratch;
}

function stringFieldLength(field: number, value: string): number {
  const bytes = utf8Length(value);
  return varintLength((field << 3) | LENGTH_DELIMITED) + varintLength(bytes) + bytes;
}

function writeStringField(target: Buffer, offset: number, field: number, value: string): number {
  const at = writeVarint(target, offset, (field << 3) | LENGTH_DELIMITED);
  const bytes = utf8Length(value);
  const start = writeVarint(target, at, bytes);
  if (bytes !== value.length) return start + target.write(value, start, 'utf8');
  // ASCII (versions and nonces always are): one byte per character, no call into C++.
  for (let i = 0; i < bytes; i++) target[start + i] = value.charCodeAt(i);
  return start + bytes;
}

/** UTF-8 length: the string's length when it is ASCII, checked here before asking Buffer. */
function utf8Length(value: string): number {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return Buffer.byteLength(value, 'utf8');
  return value.length;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value >>>= 7;
    length++;
  }
  return length;
}

/** Base-128 varint, least significant group first (lengths and tags: non-negative, below 2³²). */
function writeVarint(target: Buffer, offset: number, value: number): number {
  while (value >= 0x80) {
    target[offset++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  target[offset++] = value;
  return offset;
}

/** The entry of `value`, built by `build(input)` when missing (a function and its input: no closure per response). */
function cached<T>(
  entries: WeakMap<Uint8Array, Entry>,
  value: Uint8Array,
  typeUrl: string,
  name: string,
  version: string,
  build: (input: T) => Uint8Array,
  input: T,
): Uint8Array {
  const entry = entries.get(value);
  if (entry && entry.typeUrl === typeUrl && entry.name === name && entry.version === version) return entry.bytes;
  const bytes = build(input);
  entries.set(value, { typeUrl, name, version, bytes });
  return bytes;
}

function sotwEntry(any: AnyMessage): Uint8Array {
  return encode(envoyProtos().DiscoveryResponse, { resources: [any] });
}

function deltaEntry(resource: DeltaResourceMessage): Uint8Array {
  return encode(envoyProtos().DeltaDiscoveryResponse, { resources: [resource] });
}

/** protobufjs' bytes as a Buffer over the same memory (Buffer.from(uint8Array) would copy them). */
export function encode(type: protobuf.Type, message: object): Buffer {
  const bytes = type.encode(type.fromObject(message)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
