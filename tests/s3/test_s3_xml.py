"""The S3-style XML documents: namespace-tolerant parsing and exact building."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from litestar_storages._wire import unquote_etag
from litestar_storages.backends._s3_xml import (
    S3XmlError,
    build_complete_multipart_upload,
    parse_complete_multipart_upload,
    parse_copy_result,
    parse_error,
    parse_initiate_multipart_upload,
    parse_iso8601,
    parse_list_objects_v2,
    parse_list_parts,
)

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


@pytest.mark.parametrize("ns", [NS, "", 'xmlns="http://doc.s3.amazonaws.com/2006-03-01"'])
def test_list_bucket_result_parses_with_any_namespace(ns: str) -> None:
    body = (
        f"<ListBucketResult {ns}><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>tok</NextContinuationToken>"
        '<Contents><Key>a</Key><Size>3</Size><ETag>"e"</ETag>'
        "<LastModified>2026-01-01T00:00:00.123Z</LastModified></Contents>"
        "<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes></ListBucketResult>"
    ).encode()
    page = parse_list_objects_v2(body)
    assert [(o.key, o.size, o.etag) for o in page.objects] == [("a", 3, "e")]
    assert page.objects[0].last_modified == datetime(2026, 1, 1, 0, 0, 0, 123000, timezone.utc)
    assert page.common_prefixes == ["d/"]
    assert page.is_truncated
    assert page.next_continuation_token == "tok"


def test_url_encoded_listings_are_decoded() -> None:
    body = (
        b"<ListBucketResult><EncodingType>url</EncodingType>"
        b"<Contents><Key>a%20b%2Bc%C3%BC</Key><Size>0</Size></Contents>"
        b"<CommonPrefixes><Prefix>d%20/</Prefix></CommonPrefixes></ListBucketResult>"
    )
    page = parse_list_objects_v2(body)
    assert page.objects[0].key == "a b+cü"
    assert page.common_prefixes == ["d /"]


def test_plain_listings_keep_percent_signs() -> None:
    body = (
        b"<ListBucketResult><Contents><Key>100%25</Key><Size>0</Size></Contents></ListBucketResult>"
    )
    assert parse_list_objects_v2(body).objects[0].key == "100%25"


def test_an_unexpected_document_is_an_error() -> None:
    with pytest.raises(S3XmlError):
        parse_list_objects_v2(b"<Other/>")
    with pytest.raises(S3XmlError):
        parse_list_objects_v2(b"not xml")


def test_error_documents_drop_what_echoes_the_signature() -> None:
    body = (
        f"<Error {NS}><Code>SignatureDoesNotMatch</Code><Message>m</Message>"
        "<StringToSign>s</StringToSign><CanonicalRequest>c</CanonicalRequest>"
        "<SignatureProvided>x</SignatureProvided><AWSAccessKeyId>AKID</AWSAccessKeyId>"
        "<RequestId>r</RequestId></Error>"
    ).encode()
    assert parse_error(body) == {"Code": "SignatureDoesNotMatch", "Message": "m", "RequestId": "r"}


@pytest.mark.parametrize("body", [b"", b"plain text", b"<Result/>", b"<broken"])
def test_non_error_bodies_are_not_errors(body: bytes) -> None:
    assert parse_error(body) is None


def test_an_error_after_keep_alive_whitespace_is_found() -> None:
    assert parse_error(b"   \n\n<Error><Code>InternalError</Code></Error>") == {
        "Code": "InternalError"
    }


def test_complete_multipart_upload_body_is_exact() -> None:
    assert build_complete_multipart_upload([(1, "a"), (2, '"b"')]) == (
        b'<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload '
        b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b'<Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part>'
        b'<Part><PartNumber>2</PartNumber><ETag>"b"</ETag></Part></CompleteMultipartUpload>'
    )


def test_multipart_results_parse() -> None:
    assert (
        parse_initiate_multipart_upload(
            f"<InitiateMultipartUploadResult {NS}><UploadId>U1</UploadId>"
            "</InitiateMultipartUploadResult>".encode()
        )
        == "U1"
    )
    assert (
        parse_complete_multipart_upload(
            b"<CompleteMultipartUploadResult><ETag>&quot;e-2&quot;</ETag></CompleteMultipartUploadResult>"
        )
        == "e-2"
    )
    # radosgw 16.2 answers with an empty ETag
    assert (
        parse_complete_multipart_upload(
            b"<CompleteMultipartUploadResult><ETag></ETag></CompleteMultipartUploadResult>"
        )
        is None
    )
    with pytest.raises(S3XmlError):
        parse_initiate_multipart_upload(b"<InitiateMultipartUploadResult/>")


def test_copy_results_parse_with_and_without_quotes() -> None:
    quoted = parse_copy_result(
        b'<CopyObjectResult><ETag>"e"</ETag><LastModified>2026-01-01T00:00:00Z</LastModified></CopyObjectResult>'
    )
    bare = parse_copy_result(b"<CopyPartResult><ETag>e</ETag></CopyPartResult>")  # radosgw
    assert quoted.etag == bare.etag == "e"
    assert quoted.last_modified == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_list_parts_parse() -> None:
    page = parse_list_parts(
        b"<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>"
        b'<Part><PartNumber>1</PartNumber><ETag>"a"</ETag><Size>5</Size></Part></ListPartsResult>'
    )
    assert [(p.part_number, p.etag, p.size) for p in page.parts] == [(1, "a", 5)]
    assert page.is_truncated
    assert page.next_part_number_marker == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("2026-01-02T03:04:05.5Z", datetime(2026, 1, 2, 3, 4, 5, 500000, timezone.utc)),
        ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("garbage", None),
        (None, None),
    ],
)
def test_iso8601_timestamps(text: str | None, expected: datetime | None) -> None:
    assert parse_iso8601(text) == expected


@pytest.mark.parametrize(
    ("raw", "clean"),
    [('"abc"', "abc"), ("abc", "abc"), ('W/"abc"', "abc"), ('""', None), (None, None)],
)
def test_etags_lose_their_quotes(raw: str | None, clean: str | None) -> None:
    assert unquote_etag(raw) == clean
