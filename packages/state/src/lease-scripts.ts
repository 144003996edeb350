/**
 * Acquire: keep it if it is already ours; take it if nobody holds it, but only once Redis has
 * been up for a full ttl (ARGV[3]). A Redis that restarted without persistence has forgotten the
 * lease while the old holder may still believe it leads for up to a ttl; waiting out that ttl
 * means the old holder has either reclaimed the key (RENEW below) or demoted itself.
 * Each acquisition stores the holder's new fencing token (ARGV[4]) in KEYS[2], which never
 * expires: fenced writes (fencing.ts) compare against it, so a write of an earlier leadership is
 * refused even when that leader's lease key has expired meanwhile.
 * Returns 1 (held), 0 (someone else holds it), -1 (Redis too fresh, try later).
 */
export const ACQUIRE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('SET', KEYS[2], ARGV[4])
  return 1
end
if current then return 0 end
local info = redis.call('INFO', 'server')
local uptime = tonumber(string.match(info, 'uptime_in_seconds:(%d+)'))
if uptime ~= nil and uptime * 1000 < tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[4])
return 1
`;

/**
 * Renew: compare-and-pexpire. A missing key is reclaimed only while the fencing token (KEYS[2])
 * is still the holder's (ARGV[3]) or gone with the data: nobody acquired it since (an acquirer
 * would have stored its own token), and after a Redis restart this is how the rightful holder
 * keeps its lease. A holder paused while another acquired and released the lease has lost it.
 * Returns 1 (renewed) or 0 (lost to another owner).
 */
export const RENEW_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current then return 0 end
local token = redis.call('GET', KEYS[2])
if token and token ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return 1
`;

/** Release: compare-and-del, so a holder that already lost the lease cannot delete the new one. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
