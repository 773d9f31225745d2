"""The trigger's filter patterns, one model for every consumer: `pattern` parses a pattern
and refuses what Lambda refuses, `dynamodb` adds the rules of a DynamoDB stream record,
`matcher` evaluates a parsed pattern as Lambda does. Pure Python, no Pulumi: the config
check, the local runner, redrive and `streamops filter test` all use it."""
