"""The pure JSON/XML request builders and response parsers (no I/O)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from litestar_storages.backends.gcs import _sessions, _wire, _xml
from litestar_storages.backends.gcs._wire import GCSStoredFile

from ._gcs_helpers import ROOT, resource

# ----------------------------------------------------------------------------- key encoding
TRICKY = "dir/a b#c?d%e+f&g=h/ünï.txt"


def test_json_api_path_encodes_slashes_in_the_object_name() -> None:
    assert _wire.json_object_path("bkt", "a/b c") == "/storage/v1/b/bkt/o/a%2Fb%20c"


def test_json_api_path_encodes_every_reserved_character() -> None:
    path = _wire.json_object_path("bkt", TRICKY)
    assert path == ("/storage/v1/b/bkt/o/dir%2Fa%20b%23c%3Fd%25e%2Bf%26g%3Dh%2F%C3%BCn%C3%AF.txt")


def test_xml_api_path_keeps_slashes_raw() -> None:
    assert _xml.xml_object_path("bkt", TRICKY) == (
        "/bkt/dir/a%20b%23c%3Fd%25e%2Bf%26g%3Dh/%C3%BCn%C3%AF.txt"
    )


# ----------------------------------------------------------------------------- objects.insert
def test_objects_insert_is_one_multipart_related_request() -> None:
    request = _wire.build_objects_insert(
        ROOT,
        "bkt",
        "p/a.txt",
        b"hello",
        content_type="text/plain",
        metadata={"k": "v"},
        boundary="BOUND",
        md5="XUFAKrxLKna5cZ2REBfFkg==",
    )
    assert request.method == "POST"
    assert request.url == f"{ROOT}/upload/storage/v1/b/bkt/o?uploadType=multipart"
    assert request.headers["content-type"] == 'multipart/related; boundary="BOUND"'
    assert request.body == (
        b"--BOUND\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
        b'{"name":"p/a.txt","contentType":"text/plain","metadata":{"k":"v"},'
        b'"md5Hash":"XUFAKrxLKna5cZ2REBfFkg=="}\r\n'
        b"--BOUND\r\nContent-Type: text/plain\r\n\r\nhello\r\n--BOUND--\r\n"
    )
    assert request.idempotent is True


def test_objects_insert_create_only_sends_if_generation_match_zero() -> None:
    request = _wire.build_objects_insert(
        ROOT, "bkt", "a", b"", content_type=None, metadata=None, boundary="B", if_generation_match=0
    )
    assert request.query == [("uploadType", "multipart"), ("ifGenerationMatch", "0")]
    assert b"Content-Type: application/octet-stream" in (request.body or b"")  # type: ignore[operator]


# ----------------------------------------------------------------------------- get, delete, list
def test_objects_get_media_asks_for_stored_bytes_and_a_range() -> None:
    request = _wire.build_objects_get(ROOT, "bkt", "a/b", media=True, byte_range="bytes=0-9")
    assert request.url == f"{ROOT}/storage/v1/b/bkt/o/a%2Fb?alt=media"
    assert request.headers == {"range": "bytes=0-9", "accept-encoding": "gzip"}


def test_objects_get_metadata_has_no_alt() -> None:
    request = _wire.build_objects_get(ROOT, "bkt", "a")
    assert request.url == f"{ROOT}/storage/v1/b/bkt/o/a"
    assert request.method == "GET"


def test_objects_delete_treats_404_as_an_answer() -> None:
    request = _wire.build_objects_delete(ROOT, "bkt", "a")
    assert request.method == "DELETE"
    assert 404 in request.ok_statuses


def test_objects_list_query() -> None:
    request = _wire.build_objects_list(
        ROOT, "bkt", prefix="p/", page_token="tok", max_results=7, delimiter="/"
    )
    assert request.url == (
        f"{ROOT}/storage/v1/b/bkt/o?prefix=p%2F&delimiter=%2F&maxResults=7&pageToken=tok"
    )


def test_list_page_parses_items_prefixes_and_token() -> None:
    body = json.dumps(
        {"items": [resource("a")], "prefixes": ["d/"], "nextPageToken": "next"}
    ).encode()
    page = _wire.parse_list_page(body)
    assert [item["name"] for item in page.items] == ["a"]
    assert page.prefixes == ["d/"]
    assert page.next_page_token == "next"


def test_empty_list_page() -> None:
    page = _wire.parse_list_page(b'{"kind": "storage#objects"}')
    assert page.items == []
    assert page.next_page_token is None


# ----------------------------------------------------------------------------- resources
def test_object_resource_becomes_a_stored_file_without_the_prefix() -> None:
    body = json.dumps(resource("pre/a.txt", metadata={"k": "v"})).encode()
    stored = _wire.parse_object(body, prefix="pre/")
    assert stored == GCSStoredFile(
        key="a.txt",
        size=5,
        content_type="text/plain",
        etag="CKih16GjycICEAE=",
        last_modified=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc),
        metadata={"k": "v"},
        generation=1700000000000001,
        metageneration=1,
        md5_hash="XUFAKrxLKna5cZ2REBfFkg==",
        crc32c="mnG7TA==",
        storage_class="STANDARD",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("2026-01-02T03:04:05.1Z", datetime(2026, 1, 2, 3, 4, 5, 100000, tzinfo=timezone.utc)),
        ("2026-01-02T03:04:05.7369Z", datetime(2026, 1, 2, 3, 4, 5, 736900, tzinfo=timezone.utc)),
        (
            "2026-01-02T03:04:05.123456789Z",
            datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc),
        ),
        ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("not a time", None),
        (None, None),
    ],
)
def test_rfc3339_timestamps(text: str | None, expected: datetime | None) -> None:
    assert _wire.parse_rfc3339(text) == expected


# ----------------------------------------------------------------------------- rewrite/compose
def test_rewrite_path_names_both_objects_encoded() -> None:
    request = _wire.build_objects_rewrite(ROOT, "bkt", "a/b", "c d", rewrite_token="T")
    assert request.url == f"{ROOT}/storage/v1/b/bkt/o/a%2Fb/rewriteTo/b/bkt/o/c%20d?rewriteToken=T"
    assert request.body == b"{}"


def test_rewrite_response_in_progress_and_done() -> None:
    running = _wire.parse_rewrite(
        b'{"done": false, "rewriteToken": "T", "totalBytesRewritten": "5"}'
    )
    assert (running.done, running.rewrite_token, running.bytes_rewritten) == (False, "T", 5)
    done = _wire.parse_rewrite(json.dumps({"done": True, "resource": resource("x")}).encode())
    assert done.done
    assert done.resource is not None


def test_compose_pins_each_source_to_its_generation() -> None:
    request = _wire.build_objects_compose(
        ROOT,
        "bkt",
        "final",
        [("p1", 11), ("p2", None)],
        content_type="video/mp4",
        metadata={"k": "v"},
        if_generation_match=0,
    )
    assert request.url == f"{ROOT}/storage/v1/b/bkt/o/final/compose?ifGenerationMatch=0"
    assert json.loads(request.body or b"") == {  # type: ignore[arg-type]
        "sourceObjects": [
            {"name": "p1", "objectPreconditions": {"ifGenerationMatch": "11"}},
            {"name": "p2"},
        ],
        "destination": {"contentType": "video/mp4", "metadata": {"k": "v"}},
    }
    assert request.idempotent is False


def test_compose_takes_at_most_32_sources() -> None:
    with pytest.raises(ValueError, match="32"):
        _wire.build_objects_compose(
            ROOT, "bkt", "f", [("p", None)] * 33, content_type=None, metadata=None
        )


# ----------------------------------------------------------------------------- resumable
SESSION = f"{ROOT}/upload/storage/v1/b/bkt/o?uploadType=resumable&upload_id=AB+c%2Fd"


def test_resumable_start_carries_metadata_and_precondition() -> None:
    request = _sessions.build_resumable_start(
        ROOT, "bkt", "a", content_type="text/csv", metadata={"k": "v"}, if_generation_match=0
    )
    assert (
        request.url == f"{ROOT}/upload/storage/v1/b/bkt/o?uploadType=resumable&ifGenerationMatch=0"
    )
    assert request.headers["x-upload-content-type"] == "text/csv"
    assert json.loads(request.body or b"") == {  # type: ignore[arg-type]
        "name": "a",
        "contentType": "text/csv",
        "metadata": {"k": "v"},
    }


def test_session_uri_is_used_byte_for_byte() -> None:
    request = _sessions.build_resumable_chunk(SESSION, b"x" * 10, offset=0, total=None)
    assert request.url == SESSION


def test_intermediate_chunk_has_an_open_total() -> None:
    request = _sessions.build_resumable_chunk(SESSION, b"x" * 10, offset=256, total=None)
    assert request.headers["content-range"] == "bytes 256-265/*"
    assert request.ok_statuses == frozenset({308})
    assert request.idempotent is False


def test_last_chunk_names_the_total() -> None:
    request = _sessions.build_resumable_chunk(SESSION, b"x" * 10, offset=256, total=266)
    assert request.headers["content-range"] == "bytes 256-265/266"


def test_empty_last_chunk_only_names_the_total() -> None:
    request = _sessions.build_resumable_chunk(SESSION, b"", offset=512, total=512)
    assert request.headers["content-range"] == "bytes */512"


def test_status_query_is_an_empty_put() -> None:
    request = _sessions.build_resumable_query(SESSION)
    assert (request.method, request.body, request.headers["content-range"]) == (
        "PUT",
        b"",
        "bytes */*",
    )


@pytest.mark.parametrize(
    ("value", "committed"), [("bytes=0-262143", 262144), ("bytes=0-0", 1), (None, 0), ("junk", 0)]
)
def test_committed_bytes_from_the_range_header(value: str | None, committed: int) -> None:
    headers = {} if value is None else {"range": value}
    assert _sessions.committed_bytes(headers) == committed


def test_session_location_must_be_a_url() -> None:
    with pytest.raises(ValueError, match="Location"):
        _sessions.session_location({})


# ----------------------------------------------------------------------------- XML multipart
def test_xml_initiate_sets_type_and_metadata_headers() -> None:
    request = _xml.build_xml_initiate(
        ROOT, "bkt", "a/b.zip", content_type="application/zip", metadata={"k": "v"}
    )
    assert request.method == "POST"
    assert request.url == f"{ROOT}/bkt/a/b.zip?uploads="
    assert request.headers == {"content-type": "application/zip", "x-goog-meta-k": "v"}


def test_xml_initiate_result_gives_the_upload_id() -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Bucket>bkt</Bucket><Key>a</Key><UploadId>VXBsb2FkSWQ</UploadId>"
        b"</InitiateMultipartUploadResult>"
    )
    assert _xml.parse_xml_initiate(body) == "VXBsb2FkSWQ"


def test_xml_upload_part_query_and_md5() -> None:
    request = _xml.build_xml_upload_part(
        ROOT, "bkt", "a", upload_id="U", part_number=3, body=b"x", md5="md5=="
    )
    assert request.url == f"{ROOT}/bkt/a?partNumber=3&uploadId=U"
    assert request.headers == {"content-md5": "md5=="}


def test_xml_complete_lists_quoted_etags_in_order() -> None:
    request = _xml.build_xml_complete(
        ROOT, "bkt", "a", upload_id="U", parts=[(1, "e1"), (2, '"e2"')]
    )
    assert request.url == f"{ROOT}/bkt/a?uploadId=U"
    assert request.body == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b'<Part><PartNumber>1</PartNumber><ETag>"e1"</ETag></Part>'
        b'<Part><PartNumber>2</PartNumber><ETag>"e2"</ETag></Part></CompleteMultipartUpload>'
    )


def test_xml_abort_treats_an_unknown_upload_as_done() -> None:
    request = _xml.build_xml_abort(ROOT, "bkt", "a", upload_id="U")
    assert (request.method, request.url) == ("DELETE", f"{ROOT}/bkt/a?uploadId=U")
    assert 404 in request.ok_statuses


def test_xml_error_keeps_code_and_drops_signed_material() -> None:
    body = (
        b"<Error><Code>SignatureDoesNotMatch</Code><Message>bad</Message>"
        b"<StringToSign>GOOG4-RSA-SHA256 secret stuff</StringToSign></Error>"
    )
    code, message, details = _xml.parse_xml_error(body)
    assert (code, message) == ("SignatureDoesNotMatch", "bad")
    assert "StringToSign" not in details


def test_non_error_xml_is_not_an_error() -> None:
    assert _xml.parse_xml_error(b"<Other/>") == (None, None, {})
