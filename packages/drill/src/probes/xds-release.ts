import type * as grpc from '@grpc/grpc-js';

/**
 * Lets go of what grpc-js-xds keeps running for a probe channel after it is closed.
 *
 * With a per-channel bootstrap, grpc-js-xds (1.14) gives each channel a private `XdsClient`.
 * Closing the channel unsubscribes everything, but:
 * - the ADS stream is only half-closed. If the xDS server is unreachable at that moment, the
 *   stream stays queued (it is `waitForReady`) and grpc-js keeps a referenced timer for it,
 *   so the process never exits by itself;
 * - the "resource does not exist" timer (15 s) of a resource that never arrived keeps running.
 *
 * Call this *before* `client.close()` (closing forgets the stream and the timers) and call the
 * function it returns after. That function cancels the ADS stream (with no subscriptions left,
 * grpc-js-xds does not start another) and those timers. It reads private fields (channel →
 * internalChannel → resolvingLoadBalancer → innerResolver → xdsClient → clients → client →
 * adsCallState → call, typeStates); when they are not where expected, it does nothing. Only for
 * channels with their own bootstrap: without one, the XdsClient is the process-wide singleton.
 */
export function prepareXdsRelease(client: grpc.Client): () => void {
  const calls: { cancel(): void }[] = [];
  const timers: { maybeCancelTimer(): void }[] = [];
  try {
    const resolver = path(client.getChannel(), ['internalChannel', 'resolvingLoadBalancer', 'innerResolver']);
    const serverClients = path(resolver, ['xdsClient', 'clients']);
    for (const entry of Array.isArray(serverClients) ? serverClients : []) {
      const callState = path(entry, ['client', 'adsCallState']);
      const call = path(callState, ['call']);
      if (hasMethod(call, 'cancel')) calls.push(call);
      const typeStates = path(callState, ['typeStates']);
      if (!(typeStates instanceof Map)) continue;
      for (const typeState of typeStates.values()) {
        const byAuthority = path(typeState, ['subscribedResources']);
        if (!(byAuthority instanceof Map)) continue;
        for (const byName of byAuthority.values()) {
          if (!(byName instanceof Map)) continue;
          for (const timer of byName.values()) if (hasMethod(timer, 'maybeCancelTimer')) timers.push(timer);
        }
      }
    }
  } catch {
    // Internals moved: nothing to release.
  }
  return () => {
    for (const timer of timers) timer.maybeCancelTimer();
    for (const call of calls) call.cancel();
  };
}

function path(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || !(key in current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function hasMethod<K extends string>(value: unknown, name: K): value is Record<K, () => void> {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
}
