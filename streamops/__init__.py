"""Operator tools (run on the operator's machine, never inside Lambda), one folder per
subsystem: emulator/, lambda_local/, doctor/, redrive/, planner/, demo/."""
