"""Capacity and cost planning for a stack: the model behind `make plan` (planner/request.py).

Why a model and not a guess: users ask two things before `pulumi up` -- will this stay in
the free tier, and will the function keep up with our write rate (iterator age under the
alarm)? Both follow from the stack's typed config, the handler's measured cost per record
(bench/results.json), the bytes it logs (measured by running it) and published prices
(streamops/planner/prices.json, the one place for prices and allowances).

Modules, each a set of small pure functions:

- `rates`    -- "5/s", "300/min", "2.5M/month" -> writes per second, with limits.
- `prices`   -- the price book (streamops/planner/prices.json), validated on load.
- `measure`  -- what is measured, not assumed: the handler's cost per record (benchmark
                file) and the log bytes per invocation / per record (the real handler run
                on a sample batch with a formatter shaped like Lambda's JSON log format).
- `stack`    -- the facts a plan needs from the typed config (keys, alarms, thresholds).
- `capacity` -- shards, batching, duration per batch, iterator age, falling behind, and
                the smallest one-setting change that fixes a configuration that lags.
- `costs`    -- monthly cost lines, each with its free-tier allowance and the total.
- `report`   -- the printed table and capacity section.
"""
