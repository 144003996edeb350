import type { Locality } from '@spillway/model';

/** A locality a client may claim: `zone`/`subZone` absent means any zone/sub-zone of the region. */
export interface LocalityGrant {
  readonly region: string;
  readonly zone?: string | undefined;
  readonly subZone?: string | undefined;
}

/**
 * One rule of `xdsAuthorization.rules`: clients whose identity matches `identity` may claim the
 * `localities` and watch the `services` (`NAME.NS`). An absent list grants everything of its kind.
 * In patterns, `*` stands for any run of characters other than `/`.
 */
export interface XdsAuthorizationRule {
  readonly identity: string;
  readonly localities?: readonly LocalityGrant[] | undefined;
  readonly services?: readonly string[] | undefined;
}

/** What one authenticated client may do, from every rule its identity matches. */
export interface XdsGrant {
  /** Whether a node stating `locality` may have its stream (an empty locality claims nothing). */
  mayClaim(locality: Locality): boolean;
  /** Whether the client may learn the resources (and so the endpoints) of `service`. */
  mayWatch(service: string): boolean;
  /** True when the grant restricts services at all (the stream then filters its resources). */
  readonly restrictsServices: boolean;
}

const EVERYTHING: XdsGrant = { mayClaim: () => true, mayWatch: () => true, restrictsServices: false };

interface CompiledRule {
  readonly identity: RegExp;
  readonly localities: readonly LocalityGrant[] | undefined;
  readonly services: readonly RegExp[] | undefined;
}

/**
 * The xDS authorization rules, compiled once. Pure: no I/O, no clock. Without rules every
 * authenticated client may do everything (as before the rules existed). With rules, an identity
 * that matches none gets no grant at all: its stream is refused.
 */
export class XdsAuthorizer {
  private readonly rules: readonly CompiledRule[] | undefined;

  constructor(rules: readonly XdsAuthorizationRule[] | undefined) {
    this.rules =
      rules && rules.length > 0
        ? rules.map((rule) => ({
            identity: globToRegExp(rule.identity),
            localities: rule.localities,
            services: rule.services?.map(globToRegExp),
          }))
        : undefined;
  }

  get enabled(): boolean {
    return this.rules !== undefined;
  }

  /** The grant for `identity`, or undefined when rules exist and none matches (refuse the stream). */
  grantFor(identity: string | null): XdsGrant | undefined {
    if (!this.rules) return EVERYTHING;
    if (identity === null) return undefined;
    const matching = this.rules.filter((rule) => rule.identity.test(identity));
    if (matching.length === 0) return undefined;
    const anyLocality = matching.some((rule) => rule.localities === undefined);
    const anyService = matching.some((rule) => rule.services === undefined);
    const localities = matching.flatMap((rule) => rule.localities ?? []);
    const services = matching.flatMap((rule) => rule.services ?? []);
    return {
      mayClaim: (locality) =>
        anyLocality || claimsNothing(locality) || localities.some((grant) => covers(grant, locality)),
      mayWatch: (service) => anyService || services.some((pattern) => pattern.test(service)),
      restrictsServices: !anyService,
    };
  }
}

function claimsNothing(locality: Locality): boolean {
  return locality.region === '' && locality.zone === '' && locality.subZone === '';
}

function covers(grant: LocalityGrant, locality: Locality): boolean {
  return (
    grant.region === locality.region &&
    (grant.zone === undefined || grant.zone === locality.zone) &&
    (grant.subZone === undefined || grant.subZone === locality.subZone)
  );
}

/** `*` matches any run of characters except `/`; everything else is literal. */
export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${escaped}$`);
}
