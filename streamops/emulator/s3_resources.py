"""The S3 failure bucket and its settings resources, created for real in the emulator.

pulumi-aws 7 splits a bucket's configuration into one resource per setting (public access
block, ownership, encryption, versioning, lifecycle, policy, request metrics); each maps
onto the one S3 API call the provider makes for it. Same contract as `resources.py`:
every input is applied or the deployment fails naming it.
"""

from __future__ import annotations

from typing import Any

from streamops.aws import AwsClients
from streamops.emulator.creators import Created, Creator, Inputs, autoname, only, tag_list


def create_bucket(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    s3 = aws("s3")
    bucket = inputs.take("bucket") or autoname(name)
    # forceDestroy only changes what `pulumi destroy` does (empty the bucket first).
    force_destroy = bool(inputs.take("forceDestroy", False))
    tags = tag_list(inputs.take("tags"))
    inputs.done()

    request: dict[str, Any] = {"Bucket": bucket}
    if aws.region != "us-east-1":  # us-east-1 refuses an explicit LocationConstraint
        request["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
    s3.create_bucket(**request)
    if tags:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "region": aws.region,
        "forceDestroy": force_destroy,
    }


PUBLIC_ACCESS_FLAGS = {
    "blockPublicAcls": "BlockPublicAcls",
    "blockPublicPolicy": "BlockPublicPolicy",
    "ignorePublicAcls": "IgnorePublicAcls",
    "restrictPublicBuckets": "RestrictPublicBuckets",
}


def create_public_access_block(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    bucket = inputs.take("bucket")
    flags = {api: bool(inputs.take(key, False)) for key, api in PUBLIC_ACCESS_FLAGS.items()}
    inputs.done()
    aws("s3").put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=flags)
    return bucket, {"bucket": bucket}


def create_ownership_controls(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    bucket = inputs.take("bucket")
    rule = only(inputs.take("rule") or {}, ("objectOwnership",), f"{inputs.where} rule")
    inputs.done()
    aws("s3").put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": rule["objectOwnership"]}]},
    )
    return bucket, {"bucket": bucket}


def create_encryption(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    bucket = inputs.take("bucket")
    rules = []
    for raw in inputs.take("rules") or []:
        rule = only(raw, ("applyServerSideEncryptionByDefault", "bucketKeyEnabled"), inputs.where)
        default = only(
            rule["applyServerSideEncryptionByDefault"],
            ("sseAlgorithm", "kmsMasterKeyId"),
            f"{inputs.where} applyServerSideEncryptionByDefault",
        )
        by_default = {"SSEAlgorithm": default["sseAlgorithm"]}
        if default.get("kmsMasterKeyId"):
            by_default["KMSMasterKeyID"] = default["kmsMasterKeyId"]
        rules.append(
            {
                "ApplyServerSideEncryptionByDefault": by_default,
                "BucketKeyEnabled": bool(rule.get("bucketKeyEnabled", False)),
            }
        )
    inputs.done()
    aws("s3").put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules}
    )
    return bucket, {"bucket": bucket}


def create_versioning(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    bucket = inputs.take("bucket")
    config = only(
        inputs.take("versioningConfiguration") or {}, ("status",), f"{inputs.where} config"
    )
    inputs.done()
    aws("s3").put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": config["status"]}
    )
    return bucket, {"bucket": bucket}


def _lifecycle_rule(raw: dict[str, Any], where: str) -> dict[str, Any]:
    rule = only(
        raw,
        ("id", "status", "filter", "expiration", "noncurrentVersionExpiration",
         "abortIncompleteMultipartUpload"),
        where,
    )  # fmt: skip
    out: dict[str, Any] = {"ID": rule["id"], "Status": rule["status"]}
    out["Filter"] = {"Prefix": only(rule.get("filter", {}), ("prefix",), where).get("prefix", "")}
    if "expiration" in rule:
        expiration = only(rule["expiration"], ("days", "expiredObjectDeleteMarker"), where)
        out["Expiration"] = (
            {"Days": int(expiration["days"])}
            if "days" in expiration
            else {"ExpiredObjectDeleteMarker": bool(expiration["expiredObjectDeleteMarker"])}
        )
    if "noncurrentVersionExpiration" in rule:
        noncurrent = only(rule["noncurrentVersionExpiration"], ("noncurrentDays",), where)
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["noncurrentDays"])}
    if "abortIncompleteMultipartUpload" in rule:
        abort = only(rule["abortIncompleteMultipartUpload"], ("daysAfterInitiation",), where)
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(abort["daysAfterInitiation"])
        }
    return out


def create_lifecycle(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    bucket = inputs.take("bucket")
    rules = [_lifecycle_rule(raw, inputs.where) for raw in inputs.take("rules") or []]
    inputs.done()
    aws("s3").put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}
    )
    return bucket, {"bucket": bucket}


def create_bucket_policy(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    bucket, policy = inputs.take("bucket"), inputs.take("policy")
    inputs.done()
    aws("s3").put_bucket_policy(Bucket=bucket, Policy=policy)
    return bucket, {"bucket": bucket, "policy": policy}


def create_bucket_metric(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    bucket, metric_name = inputs.take("bucket"), inputs.take("name")
    config: dict[str, Any] = {"Id": metric_name}
    metric_filter = inputs.object("filter", ("prefix",))
    if metric_filter:
        config["Filter"] = {"Prefix": metric_filter["prefix"]}
    inputs.done()
    aws("s3").put_bucket_metrics_configuration(
        Bucket=bucket, Id=metric_name, MetricsConfiguration=config
    )
    return f"{bucket}:{metric_name}", {"bucket": bucket, "name": metric_name}


S3_CREATORS: dict[str, Creator] = {
    "aws:s3/bucket:Bucket": create_bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": create_public_access_block,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": create_ownership_controls,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        create_encryption
    ),
    "aws:s3/bucketVersioning:BucketVersioning": create_versioning,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": create_lifecycle,
    "aws:s3/bucketPolicy:BucketPolicy": create_bucket_policy,
    "aws:s3/bucketMetric:BucketMetric": create_bucket_metric,
}
