"""The tidy call log (experiments/calibrate/log.py), the Anonymous Bank converter and ``bposim convert``
(experiments/calibrate/anonymous_bank.py), and the bundled data (experiments/logs/).

The converter's quirks are pinned on hand-written raw records; nothing here reads the shared data folder outside the project.
"""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.calibrate.anonymous_bank import ANONYMOUS_BANK_EXCERPT, DROP_REASONS, RAW_FIELDS, convert_anonymous_bank
from experiments.calibrate.log import LOG_COLUMNS, OPTIONAL_COLUMNS, check_call_log, read_call_log, write_call_log
from experiments.calibrate.us_bank import US_BANK_VOLUMES, read_us_bank_volumes
from experiments.cli import main
from experiments.errors import CallLogError

HEADER = "\t".join(["vru+line", *RAW_FIELDS[1:]])
#: a queued call answered by DORIT: queued 11:45:39 for 79 s, served 243 s
QUEUED = dict(vru_line="AA0101", call_id="44749", customer_id="27644400", priority="2", type="PS", date="990901",
              vru_entry="11:45:33", vru_exit="11:45:39", vru_time="6", q_start="11:45:39", q_exit="11:46:58",
              q_time="79", outcome="AGENT", ser_start="11:46:57", ser_exit="11:51:00", ser_time="243", server="DORIT")
#: a call answered at once (never queued) by STEREN, after 14 s in the voice menu
AT_ONCE = {**QUEUED, "call_id": "44970", "customer_id": "0", "priority": "0", "type": "NW", "vru_entry": "15:31:33",
           "vru_exit": "15:31:47", "vru_time": "14", "q_start": "0:00:00", "q_exit": "0:00:00", "q_time": "0",
           "ser_start": "15:31:45", "ser_exit": "15:34:16", "ser_time": "151", "server": "STEREN"}
#: a caller who hung up after 173 s in the queue
ABANDONED = {**QUEUED, "call_id": "44968", "customer_id": "0", "priority": "0", "type": "NW", "date": "990902",
             "vru_entry": "15:10:17", "vru_exit": "15:10:26", "vru_time": "9", "q_start": "15:10:26",
             "q_exit": "15:13:19", "q_time": "173", "outcome": "HANG", "ser_start": "0:00:00",
             "ser_exit": "0:00:00", "ser_time": "0", "server": "NO_SERVER"}
#: a caller who hung up in the voice menu
IN_VRU = {**ABANDONED, "call_id": "44794", "vru_entry": "0:10:47", "vru_exit": "0:12:05", "vru_time": "78",
          "q_start": "0:00:00", "q_exit": "0:00:00", "q_time": "0"}


def record(fields: dict[str, str], sep: str = "\t") -> str:
    return sep.join(fields[name] for name in RAW_FIELDS)


def raw_file(tmp_path: Path, *records: str, name: str = "raw.txt") -> Path:
    path = tmp_path / name
    text = "\n".join([HEADER, *records]) + "\n"
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def convert(tmp_path: Path, *records: str, **options: object):
    return convert_anonymous_bank([raw_file(tmp_path, *records)], **options)  # type: ignore[arg-type]


def row(frame: pd.DataFrame) -> dict[str, object]:
    """The one row of ``frame`` as a dict, NaN as None."""
    assert len(frame) == 1
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in frame.iloc[0].items()}


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ---- the converter, quirk by quirk -------------------------------------------------------------


def test_a_queued_answered_call_arrives_at_q_start_and_waits_q_time(tmp_path):
    tidy, report = convert(tmp_path, record(QUEUED))
    assert row(tidy) == {"arrival": ts("1999-09-01 11:45:39"), "outcome": "answered", "wait_s": 79.0,
                         "handle_s": 243.0, "agent": "DORIT", "call_type": "PS", "customer_id": "27644400"}
    assert (report.read_n, report.kept_n, report.answered_n, report.abandoned_n) == (1, 1, 1, 0)
    assert list(tidy.columns) == [*LOG_COLUMNS, "agent", "call_type", "customer_id"]


def test_a_call_answered_at_once_arrives_as_it_leaves_the_vru_and_waits_0(tmp_path):
    tidy, _ = convert(tmp_path, record(AT_ONCE))
    assert row(tidy) == {"arrival": ts("1999-09-01 15:31:47"), "outcome": "answered", "wait_s": 0.0,
                         "handle_s": 151.0, "agent": "STEREN", "call_type": "NW", "customer_id": None}


def test_a_hang_up_in_the_queue_is_abandoned_after_q_time_without_handle_or_agent(tmp_path):
    tidy, _ = convert(tmp_path, record({**ABANDONED, "server": "DARMON", "ser_time": "204"}))
    assert row(tidy) == {"arrival": ts("1999-09-02 15:10:26"), "outcome": "abandoned", "wait_s": 173.0,
                         "handle_s": None, "agent": None, "call_type": "NW", "customer_id": None}


def test_a_hang_up_that_queued_for_0_s_is_abandoned_at_once(tmp_path):
    tidy, report = convert(tmp_path, record({**ABANDONED, "q_exit": "15:10:26", "q_time": "0"}))
    assert row(tidy)["outcome"] == "abandoned" and row(tidy)["wait_s"] == 0.0
    assert report.notes["abandoned_at_once"] == 1


def test_a_hang_up_in_the_voice_menu_is_dropped_or_kept_as_abandoned_at_once(tmp_path):
    tidy, report = convert(tmp_path, record(IN_VRU), record(QUEUED))
    assert len(tidy) == 1 and report.dropped["vru_only"] == 1
    kept, report = convert(tmp_path, record(IN_VRU), record(QUEUED), keep_vru_only=True)
    assert row(kept[kept["outcome"] == "abandoned"]) == {
        "arrival": ts("1999-09-02 00:12:05"), "outcome": "abandoned", "wait_s": 0.0, "handle_s": None, "agent": None,
        "call_type": "NW", "customer_id": None}
    assert report.dropped["vru_only"] == 0 and report.notes["vru_only_kept"] == 1


def test_phantom_records_are_dropped(tmp_path):
    tidy, report = convert(tmp_path, record({**QUEUED, "outcome": "PHANTOM", "server": "NO_SERVER"}), record(AT_ONCE))
    assert len(tidy) == 1 and report.dropped["phantom"] == 1
    assert report.outcomes_read == {"AGENT": 1, "HANG": 0, "PHANTOM": 1}


def test_spaces_instead_of_a_tab_before_type_read_like_the_tab(tmp_path):
    fields = [QUEUED[name] for name in RAW_FIELDS]
    line = "\t".join(fields[:3]) + "\t" + fields[3] + "   " + "\t".join(fields[4:])
    tidy, report = convert(tmp_path, line)
    expected, _ = convert(tmp_path, record(QUEUED))
    pd.testing.assert_frame_equal(tidy, expected)
    assert report.dropped["unparseable"] == 0


def test_stray_spaces_in_fields_are_stripped(tmp_path):
    spaced = {**QUEUED, "q_time": " 79", "outcome": "AGENT ", "server": " DORIT ", "type": "PS "}
    tidy, _ = convert(tmp_path, record(spaced))
    expected, _ = convert(tmp_path, record(QUEUED))
    pd.testing.assert_frame_equal(tidy, expected)


def test_an_agent_row_with_no_server_is_kept_with_agent_missing(tmp_path):
    tidy, report = convert(tmp_path, record({**AT_ONCE, "server": "NO_SERVER", "ser_time": "13"}))
    assert row(tidy)["agent"] is None and row(tidy)["handle_s"] == 13.0
    assert report.notes["agent_missing"] == 1


def test_a_negative_vru_time_is_kept_at_its_queue_times(tmp_path):
    skewed = {**QUEUED, "vru_entry": "15:46:49", "vru_exit": "15:45:56", "vru_time": "-53", "q_start": "15:45:56",
              "q_exit": "15:46:59", "q_time": "63"}
    tidy, report = convert(tmp_path, record(skewed))
    assert row(tidy)["arrival"] == ts("1999-09-01 15:45:56") and row(tidy)["wait_s"] == 63.0
    assert report.notes["negative_vru_time"] == 1 and report.notes["after_midnight"] == 0


def test_a_call_that_queues_after_midnight_arrives_the_next_day(tmp_path):
    # q_start 0:00:00 is midnight here, not "never queued": q_time says it queued
    at_midnight = {**QUEUED, "date": "990215", "vru_entry": "23:59:54", "vru_exit": "23:59:54", "vru_time": "0",
                   "q_start": "0:00:00", "q_exit": "0:00:27", "q_time": "27", "ser_start": "0:00:26",
                   "ser_exit": "0:01:33", "ser_time": "67"}
    after = {**at_midnight, "call_id": "2", "vru_entry": "23:59:50", "q_start": "0:00:05", "q_time": "22"}
    before = {**at_midnight, "call_id": "3", "vru_entry": "23:59:23", "q_start": "23:59:28", "q_time": "35"}
    tidy, report = convert(tmp_path, record(at_midnight), record(after), record(before))
    assert list(tidy["arrival"]) == [ts("1999-02-15 23:59:28"), ts("1999-02-16 00:00:00"), ts("1999-02-16 00:00:05")]
    assert list(tidy["wait_s"]) == [35.0, 27.0, 22.0]
    assert report.notes["after_midnight"] == 2


def test_an_answered_record_without_service_time_is_dropped(tmp_path):
    tidy, report = convert(tmp_path, record({**QUEUED, "ser_start": "0:00:00", "ser_exit": "0:00:00", "ser_time": "0"}),
                           record(AT_ONCE))
    assert len(tidy) == 1 and report.dropped["no_service_time"] == 1


def test_customer_ids_0_or_in_spreadsheet_notation_are_missing(tmp_path):
    tidy, report = convert(tmp_path, record({**QUEUED, "customer_id": "3.27E+11"}),
                           record({**AT_ONCE, "customer_id": "0"}), record({**ABANDONED, "customer_id": "00123"}))
    assert tidy["customer_id"].isna().tolist() == [True, True, False]
    assert tidy["customer_id"].iloc[2] == "00123" and report.notes["customer_missing"] == 2


def test_unparseable_lines_and_duplicates_are_dropped_and_located(tmp_path):
    short = "\t".join(QUEUED[name] for name in RAW_FIELDS[:16])
    bad_time = record({**QUEUED, "q_start": "11:4539"})
    bad_outcome = record({**QUEUED, "outcome": "SERVED"})
    tidy, report = convert(tmp_path, record(QUEUED), short, bad_time, record(QUEUED), bad_outcome, record(AT_ONCE))
    assert len(tidy) == 2 and report.read_n == 6
    assert report.dropped == {**dict.fromkeys(DROP_REASONS, 0), "unparseable": 3, "duplicate": 1}
    assert report.unparseable_at == ("raw.txt:3", "raw.txt:4", "raw.txt:6")  # the header is line 1


def test_days_outside_from_to_are_dropped(tmp_path):
    tidy, report = convert(tmp_path, record(QUEUED), record(ABANDONED), first_day=date(1999, 9, 2),
                           last_day=date(1999, 9, 2))
    assert list(tidy["outcome"]) == ["abandoned"] and report.dropped["outside_dates"] == 1


def test_gzip_files_are_read_and_files_are_joined_in_order(tmp_path):
    first = raw_file(tmp_path, record(ABANDONED), name="b.txt.gz")
    second = raw_file(tmp_path, record(QUEUED), name="a.txt")
    tidy, report = convert_anonymous_bank([first, second])
    assert list(tidy["outcome"]) == ["answered", "abandoned"]  # sorted by arrival
    assert report.read_n == 2
    assert len(convert_anonymous_bank(str(first))[0]) == 1  # one path alone is one file, not its characters


def test_the_report_reads_as_text(tmp_path):
    _, report = convert(tmp_path, record(QUEUED), record(IN_VRU), record({**AT_ONCE, "server": "NO_SERVER"}))
    assert report.lines() == [
        "read           3 records (2 AGENT, 1 HANG, 0 PHANTOM)",
        "kept           2 calls (2 answered, 0 abandoned)",
        "dropped        1",
        "        1  vru_only: HANG in the voice menu: never reached the agents' queue",
        "kept with a note:",
        "        1  agent_missing: AGENT served by NO_SERVER: kept, agent left empty",
        "        1  customer_missing: customer_id 0 or in spreadsheet notation (3.27E+11): kept, customer_id left empty",
    ]


# ---- the tidy log: round trips and checks ------------------------------------------------------


def small_log() -> pd.DataFrame:
    return pd.DataFrame({
        "arrival": pd.to_datetime(["1999-01-17 07:00:00.25", "1999-01-17 07:00:00", "1999-01-18 23:59:59.123456789"],
                                  format="ISO8601"),
        "outcome": ["answered", "abandoned", "answered"], "wait_s": [0.1, 12.0, 0.0], "handle_s": [100.5, np.nan, 3.0],
        "agent": ["DORIT", None, "ROTH"], "call_type": ["PS", "NE", None], "customer_id": ["007", None, "12"],
        "talk_s": [80.5, np.nan, 3.0], "acw_s": [20.0, np.nan, 0.0]})


@pytest.mark.parametrize("name", ["log.csv", "log.csv.gz", "log.parquet"])
def test_write_then_read_gives_the_checked_log_exactly(tmp_path, name):
    tidy = check_call_log(small_log(), "small")
    write_call_log(tidy, tmp_path / name)
    back = read_call_log(tmp_path / name)
    pd.testing.assert_frame_equal(back, tidy)
    assert list(back["outcome"]) == ["abandoned", "answered", "answered"]  # sorted by arrival, stable
    assert [str(t) for t in back.dtypes] == ["datetime64[ns]", "str", "float64", "float64", "str", "str", "str",
                                             "float64", "float64"]
    assert list(tmp_path.iterdir()) == [tmp_path / name]  # no temporary file left behind


def test_csv_is_iso_and_whole_seconds_have_no_decimal_point(tmp_path):
    tidy = check_call_log(small_log(), "small")
    write_call_log(tidy, tmp_path / "log.csv")
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0] == ",".join([*LOG_COLUMNS, *OPTIONAL_COLUMNS])
    assert lines[1] == "1999-01-17T07:00:00,abandoned,12.0,,,NE,,,"
    assert lines[3] == "1999-01-18T23:59:59.123456789,answered,0.0,3.0,ROTH,,12,3.0,0"


def test_the_bundled_excerpt_reads_and_holds_two_full_weeks():
    log = read_call_log(ANONYMOUS_BANK_EXCERPT)
    days = log["arrival"].dt.normalize().drop_duplicates()
    assert list(days) == list(pd.date_range("1999-01-17", "1999-01-30"))  # Sunday to Saturday, twice
    assert log["outcome"].value_counts().to_dict() == {"answered": 12206, "abandoned": 1331}
    assert list(log.columns) == [*LOG_COLUMNS, "agent", "call_type", "customer_id"]
    assert ANONYMOUS_BANK_EXCERPT.stat().st_size < 400_000
    pd.testing.assert_frame_equal(check_call_log(log, "again"), log)


def test_the_bundled_us_bank_volumes_read():
    volumes = read_us_bank_volumes()
    assert len(volumes) == 27716 and volumes["start"].dt.normalize().nunique() == 164
    assert (volumes["start"].iloc[0], volumes["calls_n"].iloc[0]) == (ts("2003-03-03 07:00"), 111)
    assert [str(t) for t in volumes.dtypes] == ["datetime64[ns]", "int64"]
    assert gzip.decompress(US_BANK_VOLUMES.read_bytes()).startswith(b"DateTime,Calls\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("When,Calls\n2003-03-03 07:00:00,111\n", "missing column 'DateTime' (required: DateTime, Calls)"),
    ("DateTime,Calls\n2003-03-03 07:00:00,111\n2003-03-03 7h05,113\n",
     "line 3: DateTime: must be a time YYYY-MM-DD HH:MM:SS, got '2003-03-03 7h05'"),
    ("DateTime,Calls\n2003-03-03 07:00:00,-1\n", "line 2: Calls: must be a whole number >= 0, got '-1'"),
])
def test_a_bad_volume_file_is_one_line(tmp_path, text, expected):
    (tmp_path / "volumes.csv").write_text(text)
    with pytest.raises(CallLogError) as caught:
        read_us_bank_volumes(tmp_path / "volumes.csv")
    assert str(caught.value) == f"{tmp_path / 'volumes.csv'}: {expected}"


GOOD_CSV = ("arrival,outcome,wait_s,handle_s\n1999-01-17T07:00:00,answered,0,100\n"
            "1999-01-18T07:00:00,abandoned,12,\n")
#: (name, file text, what the one error line must contain)
BAD_LOGS = [
    ("missing column", "arrival,outcome,wait_s\n1999-01-17T07:00:00,answered,0\n",
     "missing column 'handle_s' (required: arrival, outcome, wait_s, handle_s"),
    ("unparseable time", GOOD_CSV.replace("1999-01-18T07:00:00", "18/01/1999 07:00"),
     "line 3: arrival: must be an ISO date-time"),
    ("time without a clock", GOOD_CSV.replace("1999-01-18T07:00:00", "1999-01-18"), "line 3: arrival:"),
    ("unknown outcome", GOOD_CSV.replace("abandoned", "lost"),
     "line 3: outcome: must be answered or abandoned, got 'lost'"),
    ("negative wait", GOOD_CSV.replace(",12,", ",-12,"), "line 3: wait_s: must be a number of seconds >= 0"),
    ("missing wait", GOOD_CSV.replace(",12,", ",,"), "line 3: wait_s: must be a number of seconds >= 0"),
    ("handle on an abandoned call", GOOD_CSV.replace(",12,", ",12,30"),
     "line 3: handle_s: must be empty on an abandoned call, got '30'"),
    ("answered without handle", GOOD_CSV.replace(",0,100", ",0,"),
     "line 2: handle_s: must be a number of seconds > 0 on an answered call, got an empty value"),
    ("answered with handle 0", GOOD_CSV.replace(",0,100", ",0,0"), "line 2: handle_s: must be a number of seconds > 0"),
    ("not a number", GOOD_CSV.replace(",0,100", ",soon,100"), "line 2: wait_s: must be a number of seconds, got 'soon'"),
    ("empty file", "", "the file is empty"),
    ("a column twice", GOOD_CSV.replace("handle_s", "wait_s", 1),
     "line 1: column 'wait_s' appears more than once"),
    ("header only", "arrival,outcome,wait_s,handle_s\n", "the log has no calls"),
    ("one day", GOOD_CSV.replace("1999-01-18", "1999-01-17"),
     "arrival: the log covers one day only (1999-01-17); calibration needs at least 2 days"),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_LOGS, ids=[b[0] for b in BAD_LOGS])
def test_a_bad_log_is_one_line_naming_file_and_field_and_exit_2(tmp_path, capsys, case, text, expected):
    path = tmp_path / "log.csv"
    path.write_text(text)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bposim: error: {path}: ") and expected in err
    assert err.count("\n") == 1 and err.endswith("\n")


def test_a_good_log_checks_ok(tmp_path, capsys):
    (tmp_path / "log.csv").write_text(GOOD_CSV)
    assert main(["check", str(tmp_path / "log.csv")]) == 0
    assert capsys.readouterr().out == (f"{tmp_path / 'log.csv'}: ok: 2 calls (1 answered, 1 abandoned) on 2 days, "
                                       "1999-01-17 to 1999-01-18\n")


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("absent.csv", None, "absent.csv: no such file"),
    ("log.parquet", b"PAR1 not really", "log.parquet: cannot read as Parquet ("),
    ("log.csv.gz", b"not gzip", "log.csv.gz: cannot read as CSV ("),
    ("log.txt", b"", "log.txt: a call log must end in .csv, .csv.gz, .parquet"),
])
def test_an_absent_or_unreadable_file_is_one_line(tmp_path, name, content, expected):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(CallLogError) as caught:
        read_call_log(tmp_path / name)
    assert str(caught.value).startswith(f"{tmp_path}/{expected}") and "\n" not in str(caught.value)


def test_spaces_around_csv_headers_and_values_are_trimmed_and_other_columns_ignored(tmp_path):
    (tmp_path / "log.csv").write_text("arrival , outcome,wait_s, handle_s,priority, agent\n"
                                      "1999-01-17T07:00:00 , Answered ,0, 100 ,2, DORIT \n"
                                      "1999-01-18T07:00:00,abandoned,12,,1,\n")
    log = read_call_log(tmp_path / "log.csv")
    assert list(log.columns) == [*LOG_COLUMNS, "agent"]
    assert log.iloc[0].tolist() == [ts("1999-01-17 07:00"), "answered", 0.0, 100.0, "DORIT"]


def test_a_parquet_log_is_checked_by_row(tmp_path):
    bad = small_log().assign(wait_s=[1.0, -2.0, 0.0])
    bad.to_parquet(tmp_path / "log.parquet")
    with pytest.raises(CallLogError, match=r"log\.parquet: row 2: wait_s: must be a number of seconds >= 0"):
        read_call_log(tmp_path / "log.parquet")


def test_a_frame_with_a_utc_offset_is_refused():
    aware = small_log().assign(arrival=small_log()["arrival"].dt.tz_localize("UTC"))
    with pytest.raises(CallLogError, match=r"^mine: row 1: arrival: must be an ISO date-time in local time"):
        check_call_log(aware, "mine")


# ---- bposim convert ----------------------------------------------------------------------------


def test_convert_writes_the_log_and_prints_the_report(tmp_path, capsys):
    raw = raw_file(tmp_path, record(QUEUED), record(ABANDONED), record(IN_VRU))
    out = tmp_path / "out" / "log.parquet"
    assert main(["convert", "anonymous-bank", str(raw), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("read           3 records (1 AGENT, 2 HANG, 0 PHANTOM)\n")
    assert printed.endswith(f"\nCall log written to {out}\n")
    pd.testing.assert_frame_equal(read_call_log(out), check_call_log(convert_anonymous_bank([raw])[0], "again"))


@pytest.mark.parametrize(("records", "expected"), [
    ([record(QUEUED)], "log.csv: arrival: the log covers one day only (1999-09-01); calibration needs at least 2 days"),
    (["nothing\tlike\tthe\tformat", record(IN_VRU)],
     "raw.txt: no call to write: of 2 records read, 1 unparseable (first at raw.txt:2), 1 vru_only"),
])
def test_convert_of_a_bad_input_leaves_an_existing_output_intact(tmp_path, capsys, records, expected):
    raw = raw_file(tmp_path, *records)
    out = tmp_path / "log.csv"
    out.write_text("the previous log\n")
    assert main(["convert", "anonymous-bank", str(raw), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"bposim: error: {tmp_path}/{expected}\n"
    assert out.read_text() == "the previous log\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "raw.txt"]


def test_convert_of_an_absent_file_or_a_file_of_another_format_is_one_line(tmp_path, capsys):
    out = tmp_path / "log.csv"
    assert main(["convert", "anonymous-bank", str(tmp_path / "nope.txt"), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"bposim: error: {tmp_path / 'nope.txt'}: no such file\n"
    (tmp_path / "empty.txt").write_text(HEADER + "\n")
    assert main(["convert", "anonymous-bank", str(tmp_path / "empty.txt"), "--out", str(out)]) == 2
    assert "no record in the Anonymous Bank format" in capsys.readouterr().err
    assert main(["convert", "anonymous-bank", str(tmp_path / "empty.txt"), "--out", str(tmp_path / "log.xlsx")]) == 2
    assert "a call log must end in" in capsys.readouterr().err
    assert not out.exists()
