-- bench-bbox.lua: a wrk script that asks for a new random box on every
-- request, so that no cache can help: 0.06° × 0.06° boxes whose corners
-- lie inside the synthetic layer's extent (Xingyang, lon 113.13–113.55,
-- lat 34.58–35.00; api.SyntheticBounds), about 2 000 of 100 000 points each.
--
--   wrk -s scripts/bench-bbox.lua URL -- PATH SEED
--
-- PATH is the request path up to the bbox value, e.g.
-- "/collections/waterlogging_points/items?limit=1000&bbox=". Each wrk
-- thread seeds its own generator with SEED and its number, so every server
-- measured with the same SEED and thread count is asked for the same boxes
-- in the same order (a faster server gets further along the sequence).

local threads = 0

function setup(thread)
	thread:set("thread_id", threads)
	threads = threads + 1
end

local path, x0, y0, span, size = "/", 113.13, 34.58, 0.42, 0.06

function init(args)
	path = args[1] or path
	local seed = tonumber(args[2] or "1")
	math.randomseed(seed * 1000 + thread_id)
end

function request()
	local x = x0 + math.random() * (span - size)
	local y = y0 + math.random() * (span - size)
	return wrk.format("GET", string.format("%s%.5f,%.5f,%.5f,%.5f", path, x, y, x + size, y + size))
end
