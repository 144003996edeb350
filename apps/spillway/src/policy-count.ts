/** How many services a policy line names at most; past that, the count says enough. */
const NAMED_SERVICES_MAX = 5;

/**
 * The burst policies in force, as `spillway up` and `spillway controller` print them: the live
 * set (the config file's merged with BurstPolicy resources), not only the file's. With
 * `services` (the controller's banner), a few are named.
 */
export function describePolicyCount(
  counts: { readonly file: number; readonly resources: number },
  watchingResources: boolean,
  services: readonly string[] = [],
): string {
  const total = counts.file + counts.resources;
  const named =
    services.length > 0 && services.length <= NAMED_SERVICES_MAX ? ` (${[...services].sort().join(', ')})` : '';
  const policies = `${total} burst polic${total === 1 ? 'y' : 'ies'}${named}`;
  return watchingResources
    ? `${policies}: ${counts.file} from the file, ${counts.resources} from BurstPolicy resources`
    : policies;
}
