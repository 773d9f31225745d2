"""Redrive on the embedded emulator (streamops/redrive/, `streamops redrive`).

Each test deploys the dev stack into a fresh emulated account, writes items (so their
records are really in the table's stream) and puts failure messages in the failure queue
in their writers' exact shapes (tests/support/failure_messages.py). The replay target is
the real function package run in awslambdaric execution environments (redrive_helpers).
"""
