"""The static answers kept in memory under ASGI (sessions_app.ops.static): keyed as
ServeStatic chooses among a file's compressed copies, within a bound of memory."""

from sessions_app.ops.static import KEEP_LARGEST, Kept, _takes


def test_any_accept_encoding_is_one_of_four_keys_as_servestatic_chooses():
    assert _takes(b"gzip, deflate, br") == (True, True)
    assert _takes(b"gzip") == (False, True)
    assert _takes(b"br;q=0, gzip;q=0.5") == (False, True)  # refused with q=0
    assert _takes(b"*") == (False, False)  # ServeStatic sends the plain file
    assert _takes(b"") == (False, False)
    junk = {_takes(f"x-{n}, gzip;q=0.{n % 10}".encode()) for n in range(1000)}
    assert junk <= {(False, True), (False, False)}


def test_kept_answers_stay_within_their_bound():
    kept = Kept(limit=10)
    kept.keep(("/a", (False, True)), 200, [], b"12345")
    kept.keep(("/a", (False, True)), 200, [], b"67890")  # kept once
    kept.keep(("/b", (True, True)), 200, [], b"1234567")  # over the bound: not kept
    kept.keep(("/c", (False, False)), 200, [], b"x" * (KEEP_LARGEST + 1))
    assert kept.get(("/a", (False, True))) == (200, [], b"12345")
    assert kept.get(("/b", (True, True))) is None and kept.get(("/c", (False, False))) is None
    assert kept.size == 5
