import type { Health } from '@spillway/model';
import type { EndpointHealthStatus } from './load-assignment.js';

const STATUS: Readonly<Record<Health, EndpointHealthStatus>> = {
  healthy: 'HEALTHY',
  unhealthy: 'UNHEALTHY',
  draining: 'DRAINING',
};

export function healthStatus(health: Health): EndpointHealthStatus {
  return STATUS[health];
}
