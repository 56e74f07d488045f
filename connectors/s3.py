"""S3 access through boto3 and pyarrow, configured by S3Config only.

Credentials: explicit keys when configured (local stack), else the standard AWS chain, so the same
code runs against AWS S3, MinIO or SeaweedFS by configuration alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from connectors.errors import S3AccessDenied, S3BucketMissing, S3DeleteError, S3Unavailable
from connectors.s3_config import S3Config


@dataclass(frozen=True)
class S3Settings:
    """A picklable copy of S3Config for Beam workers (pydantic SecretStr unwrapped once)."""

    bucket: str
    prefix: str
    endpoint_url: str | None
    region: str
    access_key_id: str | None
    secret_access_key: str | None
    connect_timeout: float
    read_timeout: float
    max_attempts: int

    @classmethod
    def from_config(cls, c: S3Config) -> "S3Settings":
        secret = c.secret_access_key.get_secret_value() if c.secret_access_key else None
        return cls(c.bucket, c.prefix, c.endpoint_url, c.region, c.access_key_id, secret,
                   c.connect_timeout, c.read_timeout, c.max_attempts)

    def key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def describe_endpoint(s: S3Settings) -> str:
    return f"{s.endpoint_url or 'AWS S3'} bucket {s.bucket}"


def client(s: S3Settings):
    import boto3
    from botocore.config import Config

    kwargs = {}
    if s.access_key_id:
        kwargs = {"aws_access_key_id": s.access_key_id, "aws_secret_access_key": s.secret_access_key}
    return boto3.client(
        "s3", endpoint_url=s.endpoint_url, region_name=s.region,
        config=Config(connect_timeout=s.connect_timeout, read_timeout=s.read_timeout,
                      retries={"max_attempts": s.max_attempts, "mode": "standard"},
                      s3={"addressing_style": "path"} if s.endpoint_url else None),
        **kwargs)


def filesystem(s: S3Settings):
    """pyarrow S3FileSystem for the same endpoint and credentials (multipart uploads are atomic)."""
    from pyarrow import fs

    kwargs = {"region": s.region, "connect_timeout": s.connect_timeout,
              "request_timeout": s.read_timeout,
              "retry_strategy": fs.AwsStandardS3RetryStrategy(max_attempts=s.max_attempts)}
    if s.endpoint_url:
        u = urlparse(s.endpoint_url)
        kwargs.update(endpoint_override=u.netloc, scheme=u.scheme or "https")
    if s.access_key_id:
        kwargs.update(access_key=s.access_key_id, secret_key=s.secret_access_key)
    return fs.S3FileSystem(**kwargs)


def check_reachable(s: S3Settings) -> None:
    """One signed call; raises S3Unavailable (or the subclass that says why) with a one-line reason."""
    try:
        client(s).head_bucket(Bucket=s.bucket)
    except Exception as exc:
        raise failure(exc, s) from None


# Error codes S3 (and compatible servers) answer when the credentials are refused or lack a right.
_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem", "ExpiredToken", "InvalidAccessKeyId",
                     "InvalidToken", "SignatureDoesNotMatch", "TokenRefreshRequired", "Forbidden", "403"})


def failure(exc: BaseException, s: S3Settings) -> S3Unavailable:
    """A boto3/botocore exception -> the S3Unavailable type that says what the operator must fix:
    S3BucketMissing, S3AccessDenied (refused or missing credentials), else S3Unavailable (the
    endpoint did not answer, or answered an error). One line, naming endpoint and bucket."""
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    if isinstance(exc, S3Unavailable):
        return exc
    where = describe_endpoint(s)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return S3AccessDenied(f"no S3 credentials for {where}: {_reason(exc)}; set s3.access_key_id and "
                              "s3.secret_access_key, or give the process a role (IRSA, Pod Identity, "
                              "instance profile, AWS_* variables)")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        detail = f"{code}: {str(error.get('Message') or code).rstrip('.')}"
        # HeadBucket has no body: a missing bucket is a bare 404 there, NoSuchBucket elsewhere
        if code == "NoSuchBucket" or (code == "404" and exc.operation_name == "HeadBucket"):
            return S3BucketMissing(f"S3 bucket {s.bucket!r} does not exist at {s.endpoint_url or 'AWS S3'} "
                                   "(create it, or correct s3.bucket / s3.endpoint_url)")
        if code in _DENIED:
            return S3AccessDenied(f"S3 refused access at {where} ({exc.operation_name}): {detail}; check the "
                                  "keys or role, and that it may list, get, put and delete under the prefix")
        return S3Unavailable(f"S3 error at {where} ({exc.operation_name}): {detail}")
    return S3Unavailable(f"S3 unreachable at {where}: {_reason(exc)}")


def server_time(s: S3Settings):
    """S3's clock (the Date of a signed response): what manifests' LastModified is measured by."""
    from email.utils import parsedate_to_datetime

    try:
        headers = client(s).head_bucket(Bucket=s.bucket)["ResponseMetadata"]["HTTPHeaders"]
        return parsedate_to_datetime(headers["date"])
    except Exception as exc:
        raise S3Unavailable(f"S3 unreachable at {describe_endpoint(s)}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def list_keys(s: S3Settings, prefix: str) -> list[dict]:
    """All objects under prefix as boto3 dicts (Key, Size, ...)."""
    out: list[dict] = []
    try:
        for page in client(s).get_paginator("list_objects_v2").paginate(Bucket=s.bucket, Prefix=prefix):
            out.extend(page.get("Contents", []))
    except Exception as exc:
        raise failure(exc, s) from None
    return out


def delete_keys(s: S3Settings, keys: list[str]) -> None:
    """Delete every key or raise S3DeleteError naming what is left (after trying all batches)."""
    c = client(s)
    failed: list[tuple[str, str, str]] = []
    for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
        batch = keys[i:i + 1000]
        try:
            response = c.delete_objects(Bucket=s.bucket, Delete={"Objects": [{"Key": k} for k in batch],
                                                                "Quiet": True})
        except Exception as exc:  # the whole request refused or unreachable
            failed.extend((k, type(exc).__name__, _reason(exc)) for k in batch)
            continue
        failed.extend((e.get("Key", "?"), e.get("Code", "?"), e.get("Message", "")) for e in response.get("Errors") or [])
    if failed:
        key, code, message = failed[0]
        codes = sorted({f[1] for f in failed})
        raise S3DeleteError(
            f"S3 delete failed at {describe_endpoint(s)}: {len(failed)} of {len(keys)} objects not deleted "
            f"({', '.join(codes)}), e.g. {key}: {message or code}"
            + ("; the credentials need s3:DeleteObject" if "AccessDenied" in codes else ""), failed)
