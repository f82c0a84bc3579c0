"""Serving stored clips: which clip may be cached for good at an address, and which only kept."""

from __future__ import annotations

from reader.delivery import IMMUTABLE, STAND_IN, clip_reply

PRIMARY = "a" * 64
FALLBACK = "b" * 64
CLIP = bytes(range(200))


def test_a_clip_at_its_own_address_is_immutable() -> None:
    for address in (None, PRIMARY):
        reply = clip_reply(PRIMARY, CLIP, method="GET", range_header=None, if_none_match=None,
                           engine="edge", address=address)
        assert reply.status == 200 and reply.body == CLIP
        assert reply.headers["Cache-Control"] == IMMUTABLE
        assert reply.headers["ETag"] == f'"{PRIMARY}"'


def test_a_stand_in_has_its_own_validators_and_ranges_but_is_revalidated() -> None:
    def reply(**headers: str | None) -> tuple[int, dict[str, str], bytes]:
        made = clip_reply(FALLBACK, CLIP, method="GET", engine="espeak", address=PRIMARY,
                          range_header=headers.get("range"),
                          if_none_match=headers.get("if_none_match"))
        return made.status, made.headers, made.body

    status, headers, body = reply()
    assert (status, body) == (200, CLIP)
    assert headers["Cache-Control"] == STAND_IN == "no-cache"
    assert headers["ETag"] == f'"{FALLBACK}"' and headers["X-Reader-Engine"] == "espeak"
    status, headers, body = reply(range="bytes=10-19")
    assert (status, body, headers["Content-Range"]) == (206, CLIP[10:20], "bytes 10-19/200")
    assert reply(if_none_match=f'"{FALLBACK}"')[0] == 304
    assert reply(if_none_match=f'"{PRIMARY}"')[0] == 200  # the primary's tag is not this clip
