"""The embedded AWS emulator: moto's server on 127.0.0.1, the Pulumi program deployed into it
(each resource created by boto3 as the provider would), DynamoDB TTL, and moto patches."""
