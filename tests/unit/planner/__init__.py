"""The capacity and cost planner (streamops/planner/, its command line streamops/cli/plan.py).

Arithmetic is checked against numbers worked out by hand (the working is in the comments),
on a fixture price book and a fixture benchmark file with round numbers of their own
(plan_helpers), so the tests neither copy the real prices nor break when
bench/results.json is regenerated.
"""
