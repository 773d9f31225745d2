"""The local Lambda service: the event source mapping runner, the function run as Lambda runs
it, the log pipeline, event filtering and on-failure records."""
