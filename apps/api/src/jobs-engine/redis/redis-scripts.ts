/**
 * The Lua scripts that keep a job's record consistent on Redis: each runs atomically, so an item's result, the
 * job's counts, its state and the key's pending count move together, and a second write of one item's result (a
 * BullMQ retry after a replica died between writing and acknowledging) changes nothing. ARGV[1] is the key prefix.
 */

/** KEYS: job, results, done. ARGV: prefix, jobId, index, line, outcome (succeeded|failed), now. 0: not written. */
export const SETTLE = `
local job = KEYS[1]
local state = redis.call('HGET', job, 'state')
if not state then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[4]) == 0 then return 0 end
redis.call('RPUSH', KEYS[3], ARGV[3])
redis.call('HINCRBY', job, ARGV[5], 1)
local active = state == 'queued' or state == 'running'
if active then redis.call('DECR', ARGV[1] .. ':pending:' .. redis.call('HGET', job, 'owner')) end
local total = tonumber(redis.call('HGET', job, 'total'))
local done = tonumber(redis.call('HGET', job, 'succeeded')) + tonumber(redis.call('HGET', job, 'failed'))
if active and done >= total then
  redis.call('HSET', job, 'state', 'completed', 'finished_at', ARGV[6])
  redis.call('HSETNX', job, 'started_at', ARGV[6])
  redis.call('SMOVE', ARGV[1] .. ':state:' .. state, ARGV[1] .. ':state:completed', ARGV[2])
  redis.call('SADD', ARGV[1] .. ':webhooks', ARGV[2])
  return 2
end
return 1
`;

/** KEYS: job. ARGV: prefix, jobId, now. The job's first item started: queued becomes running. */
export const START = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'running', 'started_at', ARGV[3])
  redis.call('SMOVE', ARGV[1] .. ':state:queued', ARGV[1] .. ':state:running', ARGV[2])
  return 'running'
end
return state
`;

/** KEYS: job. ARGV: prefix, jobId, end state (cancelled|failed), now, problem JSON or ''. 1: ended now. */
export const END = `
local job = KEYS[1]
local state = redis.call('HGET', job, 'state')
if state ~= 'queued' and state ~= 'running' then return 0 end
redis.call('HSET', job, 'state', ARGV[3], 'finished_at', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', job, 'problem', ARGV[5]) end
local left = tonumber(redis.call('HGET', job, 'total')) - tonumber(redis.call('HGET', job, 'succeeded')) - tonumber(redis.call('HGET', job, 'failed'))
redis.call('DECRBY', ARGV[1] .. ':pending:' .. redis.call('HGET', job, 'owner'), left)
redis.call('SMOVE', ARGV[1] .. ':state:' .. state, ARGV[1] .. ':state:' .. ARGV[3], ARGV[2])
redis.call('SADD', ARGV[1] .. ':webhooks', ARGV[2])
return 1
`;
