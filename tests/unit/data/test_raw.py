"""Tests for the raw daily-file reader and writer (:mod:`dnt.data.raw`)."""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from pathlib import Path

import numpy as np
import pytest

from dnt.data import raw
from dnt.data.frame import CHANNELS, STEP_10MIN_MS, Traffic
from dnt.data.raw import raw_cache_path, read_raw, read_raw_many, write_raw
from dnt.errors import DataError

T0 = 1383260400000  # 2013-10-31T23:00:00Z, the first interval of the 2013-11-01 file
GOOD = (
    f"1\t{T0}\t0\t0.5\t\t\t\t\n"
    f"1\t{T0}\t39\t1.5\t2\t3\t4\t10\n"
    f"1\t{T0}\t46\t\t\t\t\t0.25\n"
    f"1\t{T0 + 2 * STEP_10MIN_MS}\t39\t1\t\t\t\t\n"
    f"10\t{T0 + STEP_10MIN_MS}\t39\t\t\t\t0.125\t\n"
)


def _write(tmp_path: Path, text: str | bytes, name: str = "sms-call-internet-mi-2013-11-01.txt") -> Path:
    path = tmp_path / name
    data = text.encode() if isinstance(text, str) else text
    if name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def _random_traffic(n_cells: int = 12, n_steps: int = 6, seed: int = 0) -> Traffic:
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(np.arange(1, 10_001), n_cells, replace=False))
    values = (rng.gamma(0.7, 1.0, (n_cells, n_steps, 5)) * [1, 1, 1, 1, 30]).astype(np.float32)
    values[rng.random(values.shape) < 0.2] = 0.0
    values[0, 1] = 0.0  # observed, no activity at all
    values[1, 2] = np.nan  # unobserved
    return Traffic(ids, T0, STEP_10MIN_MS, values)


# ---------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------
def test_read_raw_sums_country_codes_and_marks_gaps(tmp_path: Path) -> None:
    # Prepare
    path = _write(tmp_path, GOOD)
    # Execute
    t = read_raw(path, use_cache=False)
    # Assert
    assert t.channels == CHANNELS and t.step_ms == STEP_10MIN_MS and t.start_ms == T0
    assert t.cell_ids.tolist() == [1, 10] and t.n_steps == 3
    np.testing.assert_allclose(t.values[0, 0], [2.0, 2.0, 3.0, 4.0, 10.25])
    assert np.isnan(t.values[0, 1]).all()  # no row: unobserved
    np.testing.assert_allclose(t.values[0, 2], [1.0, 0.0, 0.0, 0.0, 0.0])  # empty field: 0
    np.testing.assert_allclose(t.values[1, 1], [0.0, 0.0, 0.0, 0.125, 0.0])
    assert np.isnan(t.values[1, [0, 2]]).all()


def test_read_raw_gzip_and_crlf_give_the_same_result(tmp_path: Path) -> None:
    # Prepare
    plain = _write(tmp_path, GOOD)
    gz = _write(tmp_path, GOOD, name="day.txt.gz")
    crlf = _write(tmp_path, GOOD.replace("\n", "\r\n"), name="crlf.txt")
    # Execute
    expected = read_raw(plain, use_cache=False).values
    # Assert
    for path in (gz, crlf):
        np.testing.assert_array_equal(read_raw(path, use_cache=False).values, expected)


def test_read_raw_selects_cells_on_the_whole_file_time_axis(tmp_path: Path) -> None:
    # Prepare
    path = _write(tmp_path, GOOD)
    # Execute
    t = read_raw(path, cells=[10, 7], use_cache=False)
    # Assert
    assert t.cell_ids.tolist() == [7, 10] and t.n_steps == 3 and t.start_ms == T0
    assert np.isnan(t.values[0]).all()
    np.testing.assert_allclose(t.values[1, 1, 3], 0.125)


def test_read_raw_across_many_small_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare: blocks of 40 bytes split lines; the result must not depend on the block size
    path = _write(tmp_path, GOOD)
    expected = read_raw(path, use_cache=False).values
    monkeypatch.setattr(raw, "_BLOCK_BYTES", 40)
    seen: list[tuple[int, int]] = []
    # Execute
    got = read_raw(path, use_cache=False, progress=lambda d, t: seen.append((d, t))).values
    # Assert
    np.testing.assert_array_equal(got, expected)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_read_raw_many_joins_days_on_one_axis(tmp_path: Path) -> None:
    # Prepare: day 2 starts one day later, with another cell; the day in between is missing
    day1 = _write(tmp_path, GOOD, name="d1.txt")
    t2 = T0 + 2 * 144 * STEP_10MIN_MS
    day2 = _write(tmp_path, f"5\t{t2}\t39\t1\t1\t1\t1\t1\n", name="d2.txt")
    # Execute
    t = read_raw_many([day1, day2], use_cache=False)
    # Assert
    assert t.cell_ids.tolist() == [1, 5, 10] and t.start_ms == T0 and t.end_ms == t2 + STEP_10MIN_MS
    np.testing.assert_allclose(t.values[1, -1], 1.0)
    np.testing.assert_allclose(t.values[0, 0], [2.0, 2.0, 3.0, 4.0, 10.25])
    assert np.isnan(t.values[:, 3:-1]).all()


def test_read_raw_many_with_the_cache_and_progress_over_all_files(tmp_path: Path) -> None:
    # Prepare
    day1 = _write(tmp_path, GOOD, name="d1.txt")
    day2 = _write(tmp_path, f"5\t{T0 + 144 * STEP_10MIN_MS}\t39\t1\t\t\t\t\n", name="d2.txt")
    expected = read_raw_many([day1, day2], use_cache=False)
    seen: list[tuple[int, int]] = []
    # Execute
    got = read_raw_many([day1, day2], cache_dir=tmp_path / "cache", progress=lambda d, t: seen.append((d, t)))
    # Assert
    np.testing.assert_array_equal(got.values, expected.values)
    total = day1.stat().st_size + day2.stat().st_size
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("use_cache", [False, True])
def test_read_raw_many_rejects_overlapping_files(tmp_path: Path, use_cache: bool) -> None:
    a = _write(tmp_path, GOOD, name="a.txt")
    b = _write(tmp_path, GOOD, name="b.txt")
    with pytest.raises(DataError, match="also in .*a.txt; the files overlap") as err:
        read_raw_many([a, b], use_cache=use_cache, cache_dir=tmp_path / "cache")
    assert err.value.path == str(b)


def test_read_raw_many_needs_files() -> None:
    with pytest.raises(DataError, match="no raw files"):
        read_raw_many([])


# ---------------------------------------------------------------------------------------------
# bad input: a DataError naming the file and the line
# ---------------------------------------------------------------------------------------------
BAD_LINE = 4  # the bad row replaces line 4 of GOOD


@pytest.mark.parametrize(("row", "message"), [
    (f"1\t{T0}\t39\t1\t2\t3\t4\n", "expected 8 tab-separated columns"),
    (f"1\t{T0}\t39\t1\t2\t3\t4\t5\t6\n", "expected 8 tab-separated columns"),
    ("\n", "expected 8 tab-separated columns"),
    (f"1\t{T0}\t39\tabc\t\t\t\t\n", "sms_in field 'abc' is not a number"),
    (f"1\t{T0}\t39\t1.5.5\t\t\t\t\n", "is not a number"),
    (f"1\t{T0}\t39\t1 5\t\t\t\t\n", "is not a number"),
    (f"\t{T0}\t39\t1\t\t\t\t\n", "square_id field '' is not a number"),
    (f"1\t{T0}\t39\t\xe9\t\t\t\t\n", "garbled"),
    (f"1\t{T0}\t39\t-0.5\t\t\t\t\n", "non-negative"),
    (f"1\t{T0}\t39\tnan\t\t\t\t\n", "non-negative"),
    (f"1\t{T0}\t39\t\t\t\t\tinf\n", "non-negative"),
    (f"0\t{T0}\t39\t1\t\t\t\t\n", "unknown cell id 0:"),
    (f"10001\t{T0}\t39\t1\t\t\t\t\n", "unknown cell id 10001:"),
    (f"1.5\t{T0}\t39\t1\t\t\t\t\n", "unknown cell id 1.5:"),
    (f"1\t{T0 + 1}\t39\t1\t\t\t\t\n", "not on the 10-minute grid"),
    (f"1\t{T0 + 60_000}\t39\t1\t\t\t\t\n", "not on the 10-minute grid"),
    (f"1\t{T0}\t-39\t1\t\t\t\t\n", "country_code"),
    (f"1\t{T0 - 40 * 144 * STEP_10MIN_MS}\t39\t1\t\t\t\t\n", "a raw file holds one day"),
])
def test_bad_row_names_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    # Prepare
    lines = GOOD.splitlines(keepends=True)
    lines[BAD_LINE - 1] = row
    path = _write(tmp_path, "".join(lines).encode("latin-1"))
    # Execute
    with pytest.raises(DataError, match=message) as err:
        read_raw(path, use_cache=False)
    # Assert
    assert err.value.path == str(path) and err.value.line == BAD_LINE
    assert str(err.value).startswith(f"{path}:{BAD_LINE}: ")


def test_bad_row_in_a_later_block_has_the_right_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare: 300 good lines, then a negative value; blocks of 256 bytes
    good = "".join(f"{c}\t{T0}\t39\t1\t\t\t\t2\n" for c in range(1, 301))
    path = _write(tmp_path, good + f"7\t{T0}\t39\t-1\t\t\t\t\n")
    monkeypatch.setattr(raw, "_BLOCK_BYTES", 256)
    # Execute
    with pytest.raises(DataError, match="non-negative") as err:
        read_raw(path, use_cache=False)
    # Assert
    assert err.value.line == 301


def test_truncated_last_line_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + f"10\t{T0}\t39\t0.5")
    with pytest.raises(DataError, match="truncated") as err:
        read_raw(path, use_cache=False)
    assert err.value.line == 6


def test_truncated_gzip_is_an_error(tmp_path: Path) -> None:
    # Prepare
    big = "".join(f"{c}\t{T0}\t39\t{c / 7}\t\t\t\t{c / 3}\n" for c in range(1, 2001))
    path = tmp_path / "day.txt.gz"
    path.write_bytes(gzip.compress(big.encode())[:-200])
    readable = zlib.decompressobj(wbits=31).decompress(path.read_bytes())
    # Execute
    with pytest.raises(DataError, match="truncated or corrupt gzip") as err:
        read_raw(path, use_cache=False)
    # Assert: the error names the line in which the data stops
    assert err.value.path == str(path)
    assert err.value.line == readable.count(b"\n") + 1 < 2000


@pytest.mark.parametrize("text", [b"", b"\x1f\x8b\x08garbage"])
def test_empty_or_corrupt_file_is_an_error(tmp_path: Path, text: bytes) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(DataError):
        read_raw(path, use_cache=False)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_raw(tmp_path / "nope.txt")


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["day.txt", "day.txt.gz"])
def test_write_then_read_round_trips(tmp_path: Path, name: str) -> None:
    # Prepare
    traffic = _random_traffic()
    # Execute
    back = read_raw(write_raw(traffic, tmp_path / name, seed=3), use_cache=False)
    # Assert
    np.testing.assert_array_equal(back.cell_ids, traffic.cell_ids)
    assert back.start_ms == traffic.start_ms and back.n_steps == traffic.n_steps
    np.testing.assert_allclose(back.values, traffic.values, rtol=1e-6, atol=0)  # NaN == NaN too


def test_write_raw_looks_like_the_real_files(tmp_path: Path) -> None:
    # Prepare
    ids = np.array([1, 2, 10, 100, 1000, 1001, 10000])
    values = np.full((ids.size, 4, 5), 2.0, dtype=np.float32)
    traffic = Traffic(ids, T0, STEP_10MIN_MS, values)
    # Execute
    path = write_raw(traffic, tmp_path / "day.txt", seed=1)
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    # Assert: string order of square id, then time, then country code as a string
    keys = [(r[0], int(r[1]), r[2]) for r in rows]
    assert keys == sorted(keys)
    assert list(dict.fromkeys(r[0] for r in rows)) == ["1", "10", "100", "1000", "10000", "1001", "2"]
    assert all(len(r) == 8 for r in rows)
    per_key = len(rows) / (ids.size * 4)
    assert 1.5 <= per_key <= 6
    assert sum(r[2] == "39" for r in rows) == ids.size * 4  # one Italian row per (cell, interval)
    assert any(f == "" for r in rows for f in r[3:])  # empty fields for no activity


def test_write_raw_keeps_missing_channels_empty(tmp_path: Path) -> None:
    # Prepare
    traffic = _random_traffic().select_channels(["internet"])
    # Execute
    back = read_raw(write_raw(traffic, tmp_path / "day.txt"), use_cache=False)
    # Assert
    np.testing.assert_allclose(back.channel("internet"), traffic.channel("internet"), rtol=1e-6)
    observed = ~np.isnan(back.channel("internet"))
    assert (back.channel("sms_in")[observed] == 0).all()


def test_write_raw_rejects_negative_values(tmp_path: Path) -> None:
    values = -np.ones((1, 1, 5), dtype=np.float32)
    with pytest.raises(DataError, match="non-negative"):
        write_raw(Traffic(np.array([1]), T0, STEP_10MIN_MS, values), tmp_path / "day.txt")


def test_write_raw_rejects_hourly_steps(tmp_path: Path) -> None:
    hourly = _random_traffic().resample(6 * STEP_10MIN_MS)
    with pytest.raises(DataError, match="10-minute"):
        write_raw(hourly, tmp_path / "day.txt")


# ---------------------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------------------
def _same_size_edit(path: Path) -> None:
    """Change one value without changing the size, then restore the modification time."""
    st = path.stat()
    path.write_text(path.read_text().replace("\t10\n", "\t20\n"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_second_read_hits_the_cache(tmp_path: Path) -> None:
    # Prepare
    path = _write(tmp_path, GOOD)
    first = read_raw(path, cache_dir=tmp_path / "cache")
    _same_size_edit(path)  # invisible to the cache key: a hit returns the old value
    # Execute
    second = read_raw(path, cache_dir=tmp_path / "cache")
    # Assert
    np.testing.assert_array_equal(second.values, first.values)
    assert second.values[0, 0, 4] == pytest.approx(10.25)
    assert raw_cache_path(path, cache_dir=tmp_path / "cache").exists()


def test_touching_the_source_invalidates_the_cache(tmp_path: Path) -> None:
    # Prepare
    path = _write(tmp_path, GOOD)
    read_raw(path, cache_dir=tmp_path / "cache")
    old_cache = raw_cache_path(path, cache_dir=tmp_path / "cache")
    _same_size_edit(path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    # Execute
    t = read_raw(path, cache_dir=tmp_path / "cache")
    # Assert
    assert t.values[0, 0, 4] == pytest.approx(20.25)
    assert not old_cache.exists() and len(list((tmp_path / "cache").iterdir())) == 1


def test_corrupt_cache_is_rebuilt_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Prepare
    path = _write(tmp_path, GOOD)
    expected = read_raw(path, cache_dir=tmp_path / "cache").values
    cache = raw_cache_path(path, cache_dir=tmp_path / "cache")
    cache.write_bytes(cache.read_bytes()[:50])
    # Execute
    with caplog.at_level(logging.WARNING, logger="dnt.data.raw"):
        got = read_raw(path, cache_dir=tmp_path / "cache").values
    # Assert
    np.testing.assert_array_equal(got, expected)
    assert "rebuilding" in caplog.text
    np.testing.assert_array_equal(Traffic.load(cache).values, expected)


def test_cache_beside_a_read_only_source_goes_to_the_user_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    src = tmp_path / "ro"
    src.mkdir()
    path = _write(src, GOOD)
    src.chmod(0o555)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    try:
        # Execute
        t = read_raw(path)
        # Assert
        assert not (src / ".dnt-cache").exists()
        assert list((tmp_path / "xdg" / "dnt" / "raw").glob("*.npz"))
        assert t.cell_ids.tolist() == [1, 10]
    finally:
        src.chmod(0o755)


def test_cache_beside_a_writable_source(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    read_raw(path)
    assert raw_cache_path(path).parent == tmp_path / ".dnt-cache"
    assert raw_cache_path(path).exists()
