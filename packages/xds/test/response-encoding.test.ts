import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adsServiceDefinition, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, envoyProtos } from '../src/index.js';

const definition = adsServiceDefinition();
const any = fc.record({
  type_url: fc.constantFrom(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL),
  value: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
});
// Any Unicode, so multi-byte UTF-8 and long (multi-byte varint) lengths are covered too.
const text = fc.oneof(fc.string({ maxLength: 12, unit: 'binary' }), fc.string({ minLength: 128, maxLength: 300 }));

/** What protobufjs makes of a message written by protobufjs itself: the reference. */
function reference(type: 'DiscoveryResponse' | 'DeltaDiscoveryResponse', message: object): unknown {
  const proto = envoyProtos()[type];
  return proto.toObject(proto.decode(proto.encode(proto.fromObject(message)).finish()), { defaults: true });
}

function decoded(type: 'DiscoveryResponse' | 'DeltaDiscoveryResponse', bytes: Buffer): unknown {
  const proto = envoyProtos()[type];
  return proto.toObject(proto.decode(bytes), { defaults: true });
}

describe('responses written from cached per-resource entries', () => {
  it('decode to exactly the message protobufjs would have written (SotW), with entries reused across responses', () => {
    const serialize = definition.StreamAggregatedResources!.responseSerialize as (message: object) => Buffer;
    fc.assert(
      fc.property(fc.array(any, { maxLength: 5 }), text, text, (resources, version, nonce) => {
        const message = {
          version_info: version,
          resources,
          type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
          nonce,
          control_plane: { identifier: 'spillway-router' },
        };
        expect(decoded('DiscoveryResponse', serialize(message))).toEqual(reference('DiscoveryResponse', message));
        // The same resource bytes in another response, now from the cache, and under another type URL.
        const again = {
          ...message,
          nonce: `${nonce}+`,
          resources: resources.map((r) => ({ ...r, type_url: CLUSTER_TYPE_URL })),
        };
        expect(decoded('DiscoveryResponse', serialize(again))).toEqual(reference('DiscoveryResponse', again));
      }),
    );
  });

  it('decode to exactly the message protobufjs would have written (Delta), names and versions included', () => {
    const serialize = definition.DeltaAggregatedResources!.responseSerialize as (message: object) => Buffer;
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: text, version: text, resource: any }), { maxLength: 5 }),
        fc.array(text),
        (resources, removed) => {
          const message = {
            system_version_info: 'system',
            resources,
            type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
            removed_resources: removed,
            nonce: '7',
            control_plane: { identifier: 'spillway-router' },
          };
          expect(decoded('DeltaDiscoveryResponse', serialize(message))).toEqual(
            reference('DeltaDiscoveryResponse', message),
          );
          const renamed = { ...message, resources: resources.map((r) => ({ ...r, version: `${r.version}'` })) };
          expect(decoded('DeltaDiscoveryResponse', serialize(renamed))).toEqual(
            reference('DeltaDiscoveryResponse', renamed),
          );
        },
      ),
    );
  });
});
