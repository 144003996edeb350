import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type {
  DeltaDiscoveryRequestMessage,
  DeltaDiscoveryResponseMessage,
  DiscoveryRequestMessage,
  DiscoveryResponseMessage,
} from './discovery-messages.js';
import { envoyProtos } from './envoy-protos.js';
import { encode, encodeDeltaDiscoveryResponse, encodeDiscoveryResponse } from './response-encoding.js';

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

/** Decoding keeps proto names, renders enums as names and fills defaults, as Envoy's docs show messages. */
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

/**
 * The ADS service for @grpc/grpc-js, built from the reflected protos instead of proto-loader so
 * responses can carry the cached, already-encoded resource bytes as they are. Used by the
 * server and, with the same (de)serializers, by test clients.
 */
export function adsServiceDefinition(): ServiceDefinition {
  const protos = envoyProtos();
  return {
    StreamAggregatedResources: method<DiscoveryRequestMessage, DiscoveryResponseMessage>(
      'StreamAggregatedResources',
      protos.DiscoveryRequest,
      protos.DiscoveryResponse,
      encodeDiscoveryResponse,
    ),
    DeltaAggregatedResources: method<DeltaDiscoveryRequestMessage, DeltaDiscoveryResponseMessage>(
      'DeltaAggregatedResources',
      protos.DeltaDiscoveryRequest,
      protos.DeltaDiscoveryResponse,
      encodeDeltaDiscoveryResponse,
    ),
  };
}

/** `encodeResponse`: what the server writes, from cached per-resource entries (response-encoding.ts). */
function method<Request, Response>(
  name: string,
  requestType: protobuf.Type,
  responseType: protobuf.Type,
  encodeResponse: (message: Response) => Buffer,
) {
  return {
    path: `/${ADS_SERVICE_NAME}/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (message: Request) => serialize(requestType, message as object),
    requestDeserialize: (bytes: Buffer) => deserializeRequest(requestType, bytes) as Request,
    responseSerialize: encodeResponse,
    responseDeserialize: (bytes: Buffer) => deserialize(responseType, bytes) as Response,
    originalName: name,
  };
}

function serialize(type: protobuf.Type, message: object): Buffer {
  return encode(type, message);
}

/**
 * Nearly every request is an ACK: no node (gRPC sends it once; Envoy may repeat it), no error.
 * Those are served as protobufjs decoded them: a message whose unset scalars read as their
 * defaults (from its prototype) and whose repeated and map fields are always present, which
 * is all the streams read. toObject's walk (defaults copied in, enums named, arrays copied)
 * is kept for requests that carry a node or an error, the fields where it matters.
 */
function deserializeRequest(type: protobuf.Type, bytes: Buffer): unknown {
  const decoded = type.decode(bytes) as protobuf.Message & { node?: unknown; error_detail?: unknown };
  if (decoded.node != null || decoded.error_detail != null) return type.toObject(decoded, TO_OBJECT);
  return decoded;
}

/** protobufjs returns an untyped object; the message interfaces describe the fields we read. */
function deserialize(type: protobuf.Type, bytes: Buffer): unknown {
  return type.toObject(type.decode(bytes), TO_OBJECT);
}
