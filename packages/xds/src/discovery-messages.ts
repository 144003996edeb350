/**
 * Decoded xDS messages as Spillway reads and writes them (proto field names, enums as
 * strings). Only the fields Spillway uses are typed; protobufjs fills the rest.
 */
export interface NodeMessage {
  readonly id: string;
  readonly cluster: string;
  readonly locality?: { readonly region: string; readonly zone: string; readonly sub_zone: string } | null;
  readonly metadata?: StructMessage | null;
  readonly user_agent_name: string;
  readonly client_features: readonly string[];
}

export interface StructMessage {
  readonly fields: Readonly<Record<string, { readonly string_value?: string } | undefined>>;
}

export interface StatusMessage {
  readonly code: number;
  readonly message: string;
}

export interface DiscoveryRequestMessage {
  readonly version_info: string;
  readonly node?: NodeMessage | null;
  readonly resource_names: readonly string[];
  readonly type_url: string;
  readonly response_nonce: string;
  readonly error_detail?: StatusMessage | null;
}

export interface DeltaDiscoveryRequestMessage {
  readonly node?: NodeMessage | null;
  readonly type_url: string;
  readonly resource_names_subscribe: readonly string[];
  readonly resource_names_unsubscribe: readonly string[];
  readonly initial_resource_versions: Readonly<Record<string, string>>;
  readonly response_nonce: string;
  readonly error_detail?: StatusMessage | null;
}

export interface AnyMessage {
  readonly type_url: string;
  readonly value: Uint8Array;
}

export interface DiscoveryResponseMessage {
  readonly version_info: string;
  readonly resources: readonly AnyMessage[];
  readonly type_url: string;
  readonly nonce: string;
  readonly control_plane?: { readonly identifier: string };
}

export interface DeltaResourceMessage {
  readonly name: string;
  readonly version: string;
  readonly resource: AnyMessage;
}

export interface DeltaDiscoveryResponseMessage {
  readonly system_version_info: string;
  readonly resources: readonly DeltaResourceMessage[];
  readonly type_url: string;
  readonly removed_resources: readonly string[];
  readonly nonce: string;
  readonly control_plane?: { readonly identifier: string };
}

/** Identifies this control plane in every response (Envoy shows it in its config dump). */
export const CONTROL_PLANE = { identifier: 'spillway-router' } as const;
