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
  readonly key: string;
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
  const { DiscoveryResponse } = envoyProtos();
  const { resources, ...scalars } = message;
  const parts: Uint8Array[] = [encode(DiscoveryResponse, scalars)];
  for (const any of resources) parts.push(cached(sotwEntries, any.value, any.type_url, () => sotwEntry(any)));
  return joined(parts);
}

/** The same for a DeltaDiscoveryResponse and its Resource entries (name, version, Any); the same scratch buffer. */
export function encodeDeltaDiscoveryResponse(message: DeltaDiscoveryResponseMessage): Buffer {
  const { DeltaDiscoveryResponse } = envoyProtos();
  const { resources, ...scalars } = message;
  const parts: Uint8Array[] = [encode(DeltaDiscoveryResponse, scalars)];
  for (const resource of resources) {
    const key = `${resource.resource.type_url}\0${resource.name}\0${resource.version}`;
    parts.push(cached(deltaEntries, resource.resource.value, key, () => deltaEntry(resource)));
  }
  return joined(parts);
}

/** Responses larger than this get a buffer of their own, so the scratch buffer stays small. */
const MAX_SCRATCH_BYTES = 4 * 2 ** 20;
let scratch = Buffer.allocUnsafe(256 * 1024);

/** `parts` one after the other, in the scratch buffer (valid until the next call). */
function joined(parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  if (length > MAX_SCRATCH_BYTES) return Buffer.concat(parts, length);
  if (length > scratch.length) scratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH_BYTES, 2 * length));
  let offset = 0;
  for (const part of parts) {
    scratch.set(part, offset);
    offset += part.byteLength;
  }
  return scratch.subarray(0, length);
}

function cached(
  entries: WeakMap<Uint8Array, Entry>,
  value: Uint8Array,
  key: string,
  build: () => Uint8Array,
): Uint8Array {
  const entry = entries.get(value);
  if (entry?.key === key) return entry.bytes;
  const bytes = build();
  entries.set(value, { key, bytes });
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
