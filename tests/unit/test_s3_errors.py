"""S3 failures become the error type that says what to fix (connectors/s3.py `failure`), with
one line naming the endpoint and bucket. The same classes are exercised against the real
SeaweedFS by tests/integration/test_query_cli.py."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from connectors import s3
from connectors.errors import S3AccessDenied, S3BucketMissing, S3Unavailable

SETTINGS = s3.S3Settings("newsbeam", "p", "http://s3.internal:8333", "us-east-1", None, None, 1, 1, 1)


def _client_error(code: str, operation: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize("exc, cls, words", [
    (_client_error("NoSuchBucket", "ListObjectsV2", "The specified bucket does not exist"), S3BucketMissing,
     "S3 bucket 'newsbeam' does not exist at http://s3.internal:8333"),
    (_client_error("404", "HeadBucket", "Not Found"), S3BucketMissing, "does not exist"),
    (_client_error("AccessDenied", "ListObjectsV2", "Access Denied."), S3AccessDenied,
     "S3 refused access at http://s3.internal:8333 bucket newsbeam (ListObjectsV2): AccessDenied: Access Denied;"),
    (_client_error("InvalidAccessKeyId", "GetObject", "no such key id"), S3AccessDenied, "InvalidAccessKeyId"),
    (_client_error("SignatureDoesNotMatch", "PutObject"), S3AccessDenied, "SignatureDoesNotMatch"),
    (_client_error("403", "HeadBucket", "Forbidden"), S3AccessDenied, "(HeadBucket): 403: Forbidden"),
    (NoCredentialsError(), S3AccessDenied, "no S3 credentials for http://s3.internal:8333 bucket newsbeam"),
    (EndpointConnectionError(endpoint_url="http://s3.internal:8333/newsbeam"), S3Unavailable,
     "S3 unreachable at http://s3.internal:8333 bucket newsbeam: EndpointConnectionError"),
    (_client_error("SlowDown", "PutObject", "Reduce your request rate"), S3Unavailable,
     "S3 error at http://s3.internal:8333 bucket newsbeam (PutObject): SlowDown"),
])
def test_failures_get_the_type_that_says_what_to_fix(exc, cls, words):
    err = s3.failure(exc, SETTINGS)
    assert type(err) is cls and err.exit_code == 4
    assert words in str(err) and "\n" not in str(err)


def test_a_missing_object_is_not_a_missing_bucket():
    assert type(s3.failure(_client_error("404", "HeadObject"), SETTINGS)) is S3Unavailable
    assert type(s3.failure(_client_error("NoSuchKey", "GetObject"), SETTINGS)) is S3Unavailable


def test_our_own_errors_pass_through():
    err = S3AccessDenied("already explained")
    assert s3.failure(err, SETTINGS) is err
