/**
 * The burst policies in force, as `spillway up` prints them: the live set (the config file's
 * merged with BurstPolicy resources), not only the file's.
 */
export function describePolicyCount(
  counts: { readonly file: number; readonly resources: number },
  watchingResources: boolean,
): string {
  const total = counts.file + counts.resources;
  const policies = `${total} burst polic${total === 1 ? 'y' : 'ies'}`;
  return watchingResources
    ? `${policies}: ${counts.file} from the file, ${counts.resources} from BurstPolicy resources`
    : policies;
}
