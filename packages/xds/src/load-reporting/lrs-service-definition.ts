import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { envoyProtos } from '../envoy-protos.js';

export const LRS_SERVICE_NAME = 'envoy.service.load_stats.v3.LoadReportingService';

/** uint64 counters decode as decimal strings, so a huge count is never silently rounded. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, defaults: true, arrays: true, objects: true };

/**
 * LoadReportingService.StreamLoadStats for @grpc/grpc-js, from the same reflected protos as ADS.
 * Requests decode to plain objects that `parseLoadStatsRequest` validates; used by the server
 * and by test clients that send hand-made (and bad) reports.
 */
export function lrsServiceDefinition(): ServiceDefinition {
  const { LoadStatsRequest, LoadStatsResponse } = envoyProtos();
  return {
    StreamLoadStats: {
      path: `/${LRS_SERVICE_NAME}/StreamLoadStats`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (message: object) => encode(LoadStatsRequest, message),
      requestDeserialize: (bytes: Buffer) => decode(LoadStatsRequest, bytes),
      responseSerialize: (message: object) => encode(LoadStatsResponse, message),
      responseDeserialize: (bytes: Buffer) => decode(LoadStatsResponse, bytes),
      originalName: 'StreamLoadStats',
    },
  };
}

function encode(type: protobuf.Type, message: object): Buffer {
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

function decode(type: protobuf.Type, bytes: Buffer): unknown {
  return type.toObject(type.decode(bytes), TO_OBJECT);
}
