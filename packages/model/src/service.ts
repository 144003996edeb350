import { z } from 'zod';
import { Endpoint } from './endpoint.js';

/** DNS-label-ish names: what Kubernetes accepts for a Service name and a namespace. */
const Name = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/, 'expected a lowercase DNS label (a-z, 0-9, "-", "_")');

/** `NAME.NS`: the service's identity across registries and its xDS resource name. */
export type ServiceKey = string;

export function serviceKey(name: string, namespace: string): ServiceKey {
  return `${name}.${namespace}`;
}

/** Splits `NAME.NS` at the last dot (names never contain dots, namespaces never do either). */
export function parseServiceKey(key: string): { name: string; namespace: string } | undefined {
  const dot = key.lastIndexOf('.');
  if (dot <= 0 || dot === key.length - 1) return undefined;
  const name = key.slice(0, dot);
  const namespace = key.slice(dot + 1);
  if (!ServiceName.safeParse(name).success || !ServiceName.safeParse(namespace).success) return undefined;
  return { name, namespace };
}

export const ServiceName = Name;

export const Service = z.object({
  name: Name,
  namespace: Name,
  endpoints: z.array(Endpoint),
});
export type Service = z.infer<typeof Service>;
