"""A process's ring of records: what goes in comes out, in order, whoever's it is; a full ring drops
and counts, never blocks; a killed process's last records are read; nothing in a ring is believed."""

from __future__ import annotations

import contextlib
import fcntl
import marshal
import os
import random
import signal
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

import pytest

from mpviz.model import Model
from mpviz.runtime import Supervisor
from mpviz.runtime.channels import Channels
from mpviz.telemetry import Event, Malformed, emit, install_reporter, now_ns, record, uninstall_reporter
from mpviz.telemetry import reporter as reporter_module
from mpviz.telemetry import ring_layout as layout
from mpviz.telemetry.framing import encode
from mpviz.telemetry.reporter import SOCKET_RECORDS, SocketReporter
from mpviz.telemetry.ring import RingWriter
from mpviz.telemetry.ring_layout import HEAD
from mpviz.telemetry.ring_reader import RingReader
from mpviz.telemetry.wire import MAX_INT, MAX_OBJ, MAX_STRING, check, check_fields, plain_fields

PID = os.getpid()

# One record of every shape the frequent kinds take, and some that are not frequent.
SHAPES = [
    Event(1, PID, "lock.acquired", "7@1", {"at": "7@2"}),
    Event(2, PID, "lock.released", "7@1", {"at": "7@2", "th": 4242}),
    Event(3, PID, "sem.wait", "7@3", {"value": 0, "of": 4, "at": "7@9"}),
    Event(4, PID, "rlock.timeout", "7@4", {}),
    Event(5, PID, "queue.put", "7@5", {"item": "'naïve' 🎤", "none": False, "at": "7@2"}),
    Event(6, PID, "queue.get", "7@5", {"item": "None", "none": True}),
    Event(7, PID, "queue.put_blocked", "7@5", {"item": "[1, 2]"}),
    Event(8, PID, "event.woke", "7@6", {"waited": False}),
    Event(9, PID, "cond.wait", "7@7", {"lock": "7@4", "at": "7@2"}),
    Event(10, PID, "cond.notify", "7@7", {"n": 3}),
    Event(11, PID, "pipe.send", "7@8", {"end": 1, "item": "x"}),
    Event(12, PID, "proc.state", "singing", {"room": 2, "song": "…"}),
    Event(13, PID, "lock.acquired", "7@1", {"at": "7@2", "unusual": "a field HOT does not carry"}),
    Event(14, PID + 1, "proc.spawn", "child", {"role": "w", "label": "child", "ppid": PID}),
]


def pair(size: int = 1 << 12) -> tuple[RingWriter, RingReader]:
    writer = RingWriter(size)
    assert writer.fd is not None
    reader = RingReader(os.dup(writer.fd))
    writer.handed()
    return writer, reader


def test_every_shape_comes_out_as_it_went_in_also_across_the_end() -> None:
    writer, reader = pair()
    got: list[Event] = []
    for _ in range(40):  # 40 × the shapes: several times round a 4 KiB ring
        for event in SHAPES:
            writer.write(event)
        reader.take(PID, got)
    assert got == SHAPES * 40
    assert reader.malformed == 0 and writer.lost == 0


# Every kind HOT carries, with every field it can carry (each flag of the layout, both ways).
HOT_DATA = [
    {},
    {"at": "7@2"},
    {"at": "7@9", "th": 4242},
    {"th": 1},
    {"value": 0, "of": 4, "at": "7@2"},
    {"value": -5, "of": 2**62},
    {"item": "'naïve' 🎤", "none": False, "at": "7@3"},
    {"item": "None", "none": True},
    {"item": ""},
    {"none": False, "at": "7@2"},
    {"waited": True},
    {"waited": False, "th": 3},
    {"end": 0, "item": "x"},
    {"end": 1},
    {"n": 3},
    {"n": 0, "at": "7@2"},
    {"lock": "7@4", "at": "7@9"},
    {"lock": "7@4", "th": 9},
]
EVERY_ENTRY = [
    Event(i, PID, kind, f"7@{i % 5}", data)
    for i, (kind, data) in enumerate((kind, data) for kind in layout.HOT_KINDS for data in HOT_DATA)
] + SHAPES  # (and what is not HOT: a lesson's own records, an unusual field, another process's)


def plain_reading(data: bytes, texts: list[str | None], pid: int) -> tuple[list[Event], int]:
    """Whole entries read one field at a time, as the reader did before it was made fast (the
    spec it must keep to): the records, and how many entries were malformed."""
    got: list[Event] = []
    malformed = pos = 0
    while len(data) - pos >= layout.ENTRY.size:
        size, tag = layout.ENTRY.unpack_from(data, pos)
        if size < layout.ENTRY.size or pos + size > len(data):
            return got, malformed + 1
        entry = data[pos : pos + size]
        try:
            if tag == layout.HOT:
                got.append(plain_hot(entry, texts, pid))
            elif tag == layout.BARE:
                got.append(plain_bare(entry, texts, pid))
            elif tag == layout.SAID:
                got.append(plain_said(entry, texts, pid))
            elif tag == layout.MARSHAL:
                got.append(check(marshal.loads(entry[layout.ENTRY.size :])))
            elif tag == layout.TEXT and len(texts) < layout.MAX_TEXTS:
                text = entry[layout.ENTRY.size : layout.ENTRY.size + 4 * MAX_OBJ].decode("utf-8", "replace")
                texts.append(text if size - layout.ENTRY.size <= 4 * MAX_OBJ and len(text) <= MAX_OBJ else None)
            else:
                malformed += 1
        except (Malformed, ValueError, EOFError, TypeError, IndexError, struct.error):
            malformed += 1
        pos += size
    return got, malformed + (pos < len(data))


def plain_hot(entry: bytes, texts: list[str | None], pid: int) -> Event:
    if len(entry) < layout.HOT_ENTRY.size:
        raise Malformed("a short entry")
    _, _, t_ns, code, flags, obj, at, th, value, of = layout.HOT_ENTRY.unpack_from(entry)
    name = texts[obj]
    if t_ns < 0 or name is None or value < -MAX_INT or of < -MAX_INT:
        raise Malformed("out of bounds")
    fields: dict[str, object] = {}
    if flags & layout.AT:
        fields["at"] = texts[at]
    if flags & layout.TH:
        fields["th"] = th
    if flags & layout.VALUE:
        fields["value"] = value
        fields["of"] = of
    if flags & layout.ITEM:
        fields["item"] = entry[layout.HOT_ENTRY.size :].decode("utf-8", "replace")
    if flags & layout.NONE:
        fields["none"] = bool(flags & layout.NONE_TRUE)
    if flags & layout.WAITED:
        fields["waited"] = bool(flags & layout.WAITED_TRUE)
    if flags & layout.END:
        fields["end"] = 1 if flags & layout.END_1 else 0
    if flags & layout.N:
        fields["n"] = value
    if flags & layout.LOCK:
        if of < 0:
            raise Malformed("a name not defined")
        fields["lock"] = texts[of]
    if fields.get("at", "") is None or fields.get("lock", "") is None:
        raise Malformed("a name not defined")
    return Event(t_ns, pid, layout.HOT_KINDS[code], name, fields)


def plain_bare(entry: bytes, texts: list[str | None], pid: int) -> Event:
    if len(entry) != layout.BARE_SIZE:
        raise Malformed("not a BARE entry's size")
    _, _, code, obj, at, t_ns, th = layout.BARE_FIELDS.unpack(entry)
    name = texts[obj]
    fields: dict[str, object] = {}
    if at:
        fields["at"] = texts[at - 1]
    if th:
        fields["th"] = th
    if t_ns < 0 or name is None or fields.get("at", "") is None:
        raise Malformed("out of bounds")
    return Event(t_ns, pid, layout.HOT_KINDS[code], name, fields)


def plain_said(entry: bytes, texts: list[str | None], pid: int) -> Event:
    if len(entry) < layout.SAID_SIZE:
        raise Malformed("a short entry")
    _, _, t_ns, obj = layout.SAID_ENTRY.unpack_from(entry)
    # As a MARSHAL entry of the whole record is checked (its name, if not defined, is no text).
    return check((t_ns, pid, "proc.state", texts[obj], marshal.loads(entry[layout.SAID_SIZE :])))


def exactly(events: list[Event]) -> list[object]:
    """Records as they must come out to the last detail: their class, their fields' order and types."""
    return [(type(e), e[:4], [(k, type(v), v) for k, v in e.data.items()]) for e in events]


def unread(writer: RingWriter, reader: RingReader) -> bytes:
    """The ring's bytes the reader has not read yet (across the end, if they wrap)."""
    start, n = reader._tail % writer.size, writer._head - reader._tail
    data = bytes(writer._mm[layout.PAGE + start : layout.PAGE + min(writer.size, start + n)])
    return data + bytes(writer._mm[layout.PAGE : layout.PAGE + n - len(data)])


def test_every_kind_of_entry_comes_out_as_the_plain_reading_says_also_across_the_end() -> None:
    """HOT entries of every kind with every field, and the rest (MARSHAL, TEXT), in takes of every
    size, so that the ring's end cuts entries everywhere: what comes out is what went in, exactly
    as the plain reading of the same bytes makes it (the fields' order and types too)."""
    rng = random.Random(26)
    writer, reader = pair()
    texts: list[str | None] = []
    written: list[Event] = []
    got: list[Event] = []
    plain: list[Event] = []
    wrapped = 0
    for _ in range(5):
        events = EVERY_ENTRY[:]
        rng.shuffle(events)
        pos = 0
        while pos < len(events):  # in takes of 1 to 40 records
            chunk = events[pos : pos + rng.randint(1, 40)]
            pos += len(chunk)
            start = writer._head
            for event in chunk:  # as a record, or told in parts as mpviz.sync tells it (BARE if it has no data)
                if event.pid == PID and rng.random() < 0.5:
                    writer.record(*told(event))
                else:
                    writer.write(event)
            written += chunk
            wrapped += start // writer.size != (writer._head - 1) // writer.size
            records, malformed = plain_reading(unread(writer, reader), texts, PID)
            assert malformed == 0
            plain += records
            reader.take(PID, got)
    assert writer.lost == 0 and reader.malformed == 0
    assert wrapped >= 20  # the end of the ring cut takes (and entries) many times
    assert got == written
    assert exactly(got) == exactly(plain)


def test_a_full_ring_drops_and_counts_and_never_blocks() -> None:
    writer, reader = pair()
    start = time.monotonic()
    for i in range(10_000):
        writer.write(Event(i, PID, "proc.state", "flood", {"i": i}))
    assert time.monotonic() - start < 30  # (never waits for a reader: it has none here)
    got: list[Event] = []
    reader.take(PID, got)
    flood = [e for e in got if e.obj == "flood"]
    lost = [e.data["n"] for e in got if e.kind == "proc.lost"]
    assert flood == [Event(i, PID, "proc.state", "flood", {"i": i}) for i in range(len(flood))]
    assert lost == [10_000 - len(flood)] and lost[0] > 0
    # Room again once read: what comes next goes in.
    writer.write(SHAPES[0])
    got.clear()
    reader.take(PID, got)
    assert got == [SHAPES[0]]


def test_a_printed_write_a_full_ring_cannot_take_is_refused_whole_and_never_counted_lost() -> None:
    """(Its process writes it on its pipe instead: see mpviz.sync.printing.)"""
    writer, reader = pair()
    wrote = [Event(i, PID, "proc.wrote", "", {"fd": 1, "text": f"line {i}\n"}) for i in range(1000)]
    taken = [writer.take(e)[0] for e in wrote]
    assert True in taken and False in taken
    got: list[Event] = []
    reader.take(PID, got)
    assert got == [e for e, ok in zip(wrote, taken, strict=True) if ok]  # whole, in order, no proc.lost among them
    assert writer.take(wrote[0]) == (True, False)  # room again once read


def test_a_ring_says_whose_its_records_are_only_by_who_handed_it_over() -> None:
    writer, reader = pair()
    writer.write(SHAPES[0])
    got: list[Event] = []
    reader.take(4321, got)  # the reader's word: this ring is pid 4321's
    assert got == [SHAPES[0]._replace(pid=4321)]


def test_a_head_no_writer_writes_is_counted_not_followed() -> None:
    writer, reader = pair()
    writer.write(SHAPES[0])
    writer._mm[HEAD : HEAD + 8] = (10**12).to_bytes(8, "little")  # a hostile head, far past the tail
    got: list[Event] = []
    reader.take(PID, got)
    assert got == [] and reader.malformed == 1


def test_whatever_a_ring_holds_what_comes_out_passes_the_wire_check() -> None:
    """HOT entries are checked as they are read, not by ``wire.check``: what they make must pass it."""
    rng = random.Random(26)
    writer, reader = pair(1 << 16)
    for event in SHAPES:  # names defined, so that garbage can name them
        writer.write(event)
    writer.record(*told(SHAPES[1]))  # (a BARE entry)
    reader.take(PID, [])
    entries = [bytes(writer._mm[layout.PAGE : layout.PAGE + writer._head])]
    got: list[Event] = []
    for _ in range(300):
        # Real entries with bytes changed here and there, and entries of noise behind a HOT header.
        entry = bytearray(rng.choice(entries))
        for _ in range(rng.randint(1, 8)):
            entry[rng.randrange(len(entry))] = rng.randrange(256)
        noise = bytes(rng.randrange(256) for _ in range(rng.randint(0, 80)))
        garbage = bytes(entry) + struct.pack("<HB", 3 + len(noise), rng.choice((0, 1, 2, 3, 4, 9))) + noise
        start = writer._head
        writer._head += len(garbage)
        for i, b in enumerate(garbage):
            writer._mm[layout.PAGE + (start + i) % writer.size] = b
        writer._mm[HEAD : HEAD + 8] = writer._head.to_bytes(8, "little")
        reader.take(PID, got)
        writer._tail = writer._head
    assert got and reader.malformed
    for event in got:
        assert check(tuple(event)) == event


def test_on_garbage_the_reader_says_what_the_plain_reading_says() -> None:
    """Entries of every kind with bytes changed here and there, and noise behind every tag: the
    reader gives the same records, and counts the same entries malformed, as the plain reading."""
    rng = random.Random(27)
    writer, reader = pair(1 << 16)
    texts: list[str | None] = []
    for event in EVERY_ENTRY:
        writer.write(event)
        if event.pid == PID and not event.data.keys() - {"at", "th"}:
            writer.record(*told(event))  # (a BARE entry)
    written = unread(writer, reader)
    plain_reading(written, texts, PID)
    reader.take(PID, [])
    entries, pos = [], 0
    while pos < len(written):
        size = layout.ENTRY.unpack_from(written, pos)[0]
        entries.append(written[pos : pos + size])
        pos += size
    for _ in range(500):
        garbage = bytearray(b"".join(rng.choice(entries) for _ in range(rng.randint(1, 5))))
        for _ in range(rng.randint(0, 4)):
            garbage[rng.randrange(len(garbage))] = rng.randrange(256)
        noise = bytes(rng.randrange(256) for _ in range(rng.randint(0, 60)))
        garbage += struct.pack("<HB", 3 + len(noise), rng.choice((0, 1, 2, 3, 4, 9))) + noise
        start = writer._head
        writer._head += len(garbage)
        for i, b in enumerate(garbage):
            writer._mm[layout.PAGE + (start + i) % writer.size] = b
        expected, malformed = plain_reading(bytes(garbage), texts, PID)
        got: list[Event] = []
        before = reader.malformed
        writer._mm[HEAD : HEAD + 8] = writer._head.to_bytes(8, "little")
        reader.take(PID, got)
        writer._tail = writer._head
        assert exactly(got) == exactly(expected)
        assert reader.malformed - before == malformed


def test_a_report_goes_as_its_data_alone_its_name_by_number() -> None:
    """A process's ``proc.state`` (what ``report`` says) is a SAID entry: its data alone marshalled,
    its name defined once and then named by its number; it comes out as it went in."""
    writer, reader = pair()
    events = [Event(now_ns() + i, PID, "proc.state", "flood", {"i": i}) for i in range(3)]
    for event in events:
        writer.write(event)
    entries = unread(writer, reader)
    tags, pos = [], 0
    while pos < len(entries):
        size, tag = layout.ENTRY.unpack_from(entries, pos)
        tags.append(tag)
        pos += size
    assert tags == [layout.TEXT] + [layout.SAID] * 3
    assert len(entries) == 3 + len("flood") + 3 * (layout.SAID_SIZE + len(marshal.dumps({"i": 0})))
    got: list[Event] = []
    reader.take(PID, got)
    assert exactly(got) == exactly(events)


def test_a_reports_entry_is_checked_as_its_whole_record_would_be() -> None:
    """A SAID entry (a ``proc.state``, its data alone marshalled) of a hostile writer: its data is
    refused as ``wire.check`` refuses it in a whole record, and what passes comes out as it went in."""
    writer, reader = pair(1 << 16)
    writer.write(Event(1, PID, "proc.state", "singing", {}))  # (its name defined)
    datas: list[Any] = [
        {"room": 2, "song": "…", "loud": True, "pi": 3.5, "none": None, "list": [1, "a"]},
        {"th": -1},  # a thread's number is a count
        {"at": 7},  # a site is text
        {"room": 2**64},  # a number past 64 bits
        {"pi": float("nan")},
        {"x": b"bytes"},
        {"x": {1, 2}},
        {1: "a key that is not text"},
        {f"k{i}": i for i in range(100)},  # more fields than a record holds
        ["not", "a dict"],
        "text",
    ]
    said_raw(writer, datas)
    got: list[Event] = []
    reader.take(PID, got)
    whole = []
    for i, data in enumerate(datas):
        with contextlib.suppress(Malformed):
            whole.append(check((10 + i, PID, "proc.state", "singing", data)))
    assert [e.t_ns for e in whole] == [10]  # (the first alone passes)
    assert exactly(got[1:]) == exactly(whole)
    assert reader.malformed == len(datas) - 1


def said_raw(writer: RingWriter, datas: list[Any]) -> None:
    """SAID entries of these data (each marshalled as it is), times 10, 11 …, name 0, as a hostile writer writes them."""
    entries = b""
    for i, data in enumerate(datas):
        payload = marshal.dumps(data)
        entries += layout.SAID_ENTRY.pack(layout.SAID_SIZE + len(payload), layout.SAID, 10 + i, 0) + payload
    start = writer._head
    for i, b in enumerate(entries):
        writer._mm[layout.PAGE + (start + i) % writer.size] = b
    writer._head += len(entries)
    writer._mm[HEAD : HEAD + 8] = writer._head.to_bytes(8, "little")


def test_a_bad_report_among_good_ones_is_taken_out_alone() -> None:
    """A take's reports are checked at once (``wire.plain_fields``): one bad among plain ones — a
    number or a text just past its bound, a thread or site of the wrong type, a key not text — is
    refused and counted, the others come out in order."""
    bad: list[dict[Any, Any]] = [
        {"i": MAX_INT + 1},
        {"i": -MAX_INT - 1},
        {"s": "x" * (MAX_STRING + 1)},
        {"i": 1, "s": "x" * (MAX_STRING + 1)},
        {"i": MAX_INT + 1, "s": "ok"},
        {"th": -1},
        {"at": 7},
        {1: 2},
    ]
    for one in bad:
        writer, reader = pair(1 << 16)
        writer.write(Event(1, PID, "proc.state", "singing", {}))  # (its name defined)
        good = [{"i": MAX_INT, "s": "x" * MAX_STRING}, {"i": -MAX_INT}, {}, {"th": 5, "at": "s1"}]
        said_raw(writer, [*good[:2], one, *good[2:]])
        got: list[Event] = []
        assert reader.take(PID, got) == 1 + len(good), one
        assert [e.data for e in got[1:]] == good
        assert [e.t_ns for e in got[1:]] == [10, 11, 13, 14]
        assert reader.malformed == 1


def test_reports_data_looked_at_at_once_never_pass_what_one_by_one_is_refused() -> None:
    """``plain_fields`` says a take's reports pass only if each would pass ``check_fields``; and says
    so of whole numbers and texts within their bounds."""
    datas: list[dict[Any, Any]] = [
        *(
            {},
            {"i": 1},
            {"i": MAX_INT},
            {"i": MAX_INT + 1},
            {"i": -MAX_INT - 1},
            {"s": "x"},
            {"s": "x" * (MAX_STRING + 1)},
        ),
        *({"th": 3}, {"th": -1}, {"at": "s"}, {"at": 7}, {1: 2}, {"f": 1.5}, {"f": float("nan")}, {"b": True}),
        *({"n": None}, {"l": [1]}, {"d": {"k": 2**70}}),
    ]
    for a in datas:
        for b in datas:
            if plain_fields("proc.state", [a, b]):
                check_fields("proc.state", a, None)  # (Malformed, if not)
                check_fields("proc.state", b, None)
    assert plain_fields("proc.state", [{}, {"i": -MAX_INT, "s": "x" * MAX_STRING}, {"i": MAX_INT, "t": ""}])


def test_a_report_comes_out_as_its_whole_record_marshalled_would_also_near_the_bound() -> None:
    """What a SAID entry cannot carry (data marshal does not take, a record near the wire's bound,
    another process's) goes marshalled whole: every report comes out as ``encode`` makes it."""
    writer, reader = pair(1 << 16)
    names = ["singing", "naïve 🎤" * 50]
    events = [
        Event(now_ns() + i, pid, "proc.state", name, data)
        for i, (pid, name, data) in enumerate(
            [(PID, name, {"song": "x" * n}) for name in names for n in range(3950, 4100)]
            + [(PID, "singing", {"at": object()}), (PID, "singing", {"s": "é" * 2000}), (PID + 1, "singing", {})]
        )
    ]
    got: list[Event] = []
    for event in events:
        writer.write(event)
        reader.take(PID, got)
    assert exactly(got) == exactly([check(marshal.loads(encode(e))) for e in events])
    assert any("truncated" in e.data for e in got) and any(len(e.data.get("song", "")) > 4000 for e in got)
    assert reader.malformed == 0 and writer.lost == 0


def test_a_ring_that_could_shrink_under_its_reader_is_refused() -> None:
    fd = os.memfd_create("not-a-ring", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, layout.PAGE + (1 << 12))
    with pytest.raises(ValueError, match="shrink"):
        RingReader(fd)  # (takes the descriptor)
    fd = os.memfd_create("sealed-but-not-a-ring", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, layout.PAGE + (1 << 12))
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK)
    with pytest.raises(ValueError, match="mark"):
        RingReader(fd)


def read_until_kind(channels: Channels, got: list[Event], kind: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not any(e.kind == kind for e in got):
        assert time.monotonic() < deadline, f"no {kind} record"
        got += channels.read(0.05)


@pytest.fixture
def unloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that has not loaded the mapping (ctypes) yet, as a watched program's main or a
    spawned child: its ring is mapped when it first writes.  (This test's process has: the reader's.)"""
    monkeypatch.setattr(reporter_module, "MAPPING", "mpviz.telemetry.mapping, not loaded")


def test_a_process_that_has_loaded_the_mapping_maps_its_ring_at_once() -> None:
    """A child forked from a process that mapped its ring, or a forkserver's, pays nothing more to
    map its own: every record goes into it from the start."""
    assert reporter_module.MAPPING in sys.modules
    channels = Channels(lambda pid: Event(now_ns(), pid, "proc.exit", "", {"code": None}))
    hello = Event(now_ns(), PID, "proc.stdio", "", {"streams": []})
    reporter = SocketReporter(channels.endpoint, (), hello)
    install_reporter(reporter)
    try:
        assert reporter._ring is not None and reporter._unmapped is None
        emit("proc.start", "", {"ppid": 1})
        assert reporter._socket_records == 0 and reporter._ring._head > 0
        got: list[Event] = []
        read_until_kind(channels, got, "proc.start")
    finally:
        uninstall_reporter()
        channels.close()


def test_the_reader_asleep_is_woken_once_then_not_while_awake() -> None:
    channels = Channels(lambda pid: Event(now_ns(), pid, "proc.exit", "", {"code": None}))
    hello = Event(now_ns(), PID, "proc.stdio", "", {"streams": []})
    reporter = SocketReporter(channels.endpoint, (), hello)
    install_reporter(reporter)
    try:
        got: list[Event] = []
        read_until_kind(channels, got, "proc.stdio")
        # The first operation maps the ring (see the next test).
        assert record.operation is not None
        record.operation("lock.wait", "L", None, "here", 0, now_ns())
        read_until_kind(channels, got, "lock.wait")
        # Quiet: the reader arms the ring and sleeps; a record wakes it long before its timeout.
        for _ in range(3):
            got += channels.read(0.05)
        assert reporter._ring is not None and reporter._ring._mm[layout.ASLEEP] == 1
        emit("lock.acquired", "L", {"at": "here"})
        assert reporter._ring._mm[layout.ASLEEP] == 0  # the writer took the wake-up: one, for the burst
        start = time.monotonic()
        while not any(e.kind == "lock.acquired" for e in got):
            got += channels.read(10.0)
        assert time.monotonic() - start < 5  # woken, not timed out (10 s)
        assert channels.malformed == 0
    finally:
        uninstall_reporter()
        channels.close()


def test_a_ring_is_mapped_at_the_first_operation_and_wakes_a_reader_that_slept_on_it_before(unloaded: None) -> None:
    """A process hands its ring over when it connects, but maps it only when it first makes an
    operation (or after ``SOCKET_RECORDS`` records): until then its records go on the connection,
    and one that never does (a child that does nothing) never loads what mapping costs (ctypes).
    The dashboard reads the empty ring meanwhile, and sleeps on it: the first operation wakes it."""
    channels = Channels(lambda pid: Event(now_ns(), pid, "proc.exit", "", {"code": None}))
    hello = Event(now_ns(), PID, "proc.stdio", "", {"streams": []})
    reporter = SocketReporter(channels.endpoint, (), hello)
    install_reporter(reporter)
    try:
        got: list[Event] = []
        emit("proc.start", "", {"ppid": 1})
        read_until_kind(channels, got, "proc.start")
        for _ in range(3):
            got += channels.read(0.05)
        assert reporter._ring is None  # a record said: on the connection
        assert record.operation is not None
        record.operation("lock.acquired", "L", None, "here", 0, now_ns())
        ring = reporter._ring
        assert ring is not None and ring._mm[layout.ASLEEP] == 0  # the reader, armed before, woken
        assert record.operation == ring.record  # the next ones go straight into the ring
        start = time.monotonic()
        while not any(e.kind == "lock.acquired" for e in got):
            got += channels.read(10.0)
        assert time.monotonic() - start < 5  # woken, not timed out (10 s)
        emit("proc.state", "after")  # a record made otherwise, once the ring is mapped: there too
        assert reporter._ring._head > 0 and reporter._socket_records == 1
        read_until_kind(channels, got, "proc.state")
        assert [e.kind for e in got if e.pid == PID] == ["proc.stdio", "proc.start", "lock.acquired", "proc.state"]
        assert channels.malformed == 0
    finally:
        uninstall_reporter()
        channels.close()


def test_a_process_that_says_many_records_and_makes_no_operation_maps_its_ring_after_a_few(unloaded: None) -> None:
    channels = Channels(lambda pid: Event(now_ns(), pid, "proc.exit", "", {"code": None}))
    hello = Event(now_ns(), PID, "proc.stdio", "", {"streams": []})
    reporter = SocketReporter(channels.endpoint, (), hello)
    install_reporter(reporter)
    try:
        n = SOCKET_RECORDS + 10
        for i in range(n):
            emit("proc.state", f"s{i}")
        assert reporter._ring is not None and reporter._socket_records == SOCKET_RECORDS
        got: list[Event] = []
        deadline = time.monotonic() + 30
        while len([e for e in got if e.kind == "proc.state"]) < n:
            assert time.monotonic() < deadline
            got += channels.read(0.05)
        assert [e.obj for e in got if e.kind == "proc.state"] == [f"s{i}" for i in range(n)]
    finally:
        uninstall_reporter()
        channels.close()


def test_a_ring_whose_descriptor_the_program_closed_leaves_the_records_on_the_connection(unloaded: None) -> None:
    """A program may close every descriptor (``os.closerange``) before its first operation, and open
    a file of its own under the ring's number: that file is neither mapped nor closed."""
    channels = Channels(lambda pid: Event(now_ns(), pid, "proc.exit", "", {"code": None}))
    hello = Event(now_ns(), PID, "proc.stdio", "", {"streams": []})
    reporter = SocketReporter(channels.endpoint, (), hello)
    install_reporter(reporter)
    unmapped = reporter._unmapped
    assert unmapped is not None
    os.close(unmapped.fd)
    r, w = os.pipe()
    mine = os.dup2(r, unmapped.fd)  # the program's own, under that number
    try:
        assert record.operation is not None
        record.operation("lock.acquired", "L", None, "here", 0, now_ns())
        assert reporter._ring is None and reporter._unmapped is None
        os.fstat(mine)  # still open: the program's
        got: list[Event] = []
        read_until_kind(channels, got, "lock.acquired")
        assert [e.data for e in got if e.kind == "lock.acquired"] == [{"at": "here"}]
        emit("proc.state", "later")
        read_until_kind(channels, got, "proc.state")
    finally:
        uninstall_reporter()
        channels.close()
        for fd in (mine, r, w):
            os.close(fd)


@pytest.fixture
def supervisor():
    sup = Supervisor(sample_every=None)
    yield sup
    sup.close()


def read_until(sup: Supervisor, until, timeout: float = 120) -> list[Event]:
    got: list[Event] = []
    deadline = time.monotonic() + timeout
    while not until(got):
        assert time.monotonic() < deadline, "timed out waiting for records"
        got.extend(sup.channels.read(0.05))
    return got


def test_a_process_killed_right_after_a_burst_has_every_record_in_the_model(supervisor: Supervisor) -> None:
    from helpers.workers import burst_then_killed

    from mpviz import sync

    n = 3000
    lock = sync.get_context(supervisor.method).Lock(name="burst")
    pid = supervisor.start(burst_then_killed, (lock, n), role="burst", label="burst")
    got = read_until(supervisor, lambda got: any(e.kind == "proc.exit" and e.pid == pid for e in got))
    got += supervisor.channels.flush()
    model = Model()
    model.apply(got)
    proc = model.procs[pid]
    assert proc.exit_signal == "SIGKILL"
    assert proc.said_count("burst") == n
    assert model.prims[lock.id].acquisitions == n
    assert model.lost == 0


def test_a_ring_filled_while_the_dashboard_is_stopped_never_blocks_and_counts_the_loss(
    supervisor: Supervisor,
) -> None:
    from helpers.workers import flood

    n = 200_000  # ~50 bytes each: ten rings' worth
    pid = supervisor.start(flood, (n,), role="flooder", label="flooder")
    # The dashboard reads nothing until the process has ended: it must end all the same.
    process = supervisor.children[pid].process
    assert wait([process.sentinel], 120), "the flooder blocked"
    process.join(30)  # (its end is told a moment before it can be reaped)
    assert process.exitcode == 0
    got = read_until(supervisor, lambda got: any(e.kind == "proc.exit" and e.pid == pid for e in got))
    got += supervisor.channels.flush()
    model = Model()
    model.apply(got)
    flooded = [e.data["i"] for e in got if e.obj == "flood"]
    lost = sum(e.data["n"] for e in got if e.kind == "proc.lost" and e.pid == pid)
    assert flooded == list(range(len(flooded)))  # the first ones, in order: the ring keeps what fits
    # Every flood record not read was counted lost; so were the few the process made after the flood
    # (its end: ``proc.ran``), the ring still full.
    assert lost > 0 and n <= len(flooded) + lost <= n + 3
    assert model.lost_by[pid] == lost
    assert supervisor.channels.malformed == 0


def test_nothing_later_than_a_ring_read_in_part_is_given_out() -> None:
    """Two rings, their records' times interleaved, each more than one take: what the channels give
    out (up to the rings' frontier) is never later than what a later take of either ring brings.
    Before: each ring's take was given out whole, and the rest of one ring came later, older than
    the other's records already given out (7–9 records in 200 k of two processes flooding; a
    contention program's recording refused by ``mpviz replay``: "not in time order")."""
    from mpviz.runtime.rings import Rings

    n = 12_000  # ~50 bytes each: two takes and more of each ring
    rings = Rings()
    writers = []
    for pid in (101, 102):
        writer = RingWriter(1 << 20)
        assert writer.fd is not None
        assert rings.add(pid, os.dup(writer.fd), [])
        writer.handed()
        writers.append(writer)
    for i in range(n):
        for k, writer in enumerate(writers):
            writer.write(Event(2 * i + k, PID, "proc.state", "flood", {"i": i}))
    given: list[Event] = []
    later: list[Event] = []
    for pid in (101, 102):
        rings.take(pid, later)
    frontier = rings.frontier()
    assert frontier is not None, "each ring holds more than one take"
    given = [e for e in later if e.t_ns <= frontier]
    later = [e for e in later if e.t_ns > frontier]
    while rings.frontier() is not None:
        for pid in (101, 102):
            rings.take(pid, later)
    assert len(given) + len(later) == 2 * n
    assert max(e.t_ns for e in given) <= min(e.t_ns for e in later)


def test_a_signal_handler_reporting_mid_record_keeps_both() -> None:
    writer, reader = pair(1 << 16)
    inner = Event(2, PID, "proc.state", "from a signal handler", {})
    original = writer._put

    def put(entry: bytes) -> None:  # a signal handler runs in the middle of this thread's own record
        writer._put = original
        writer.write(inner)
        original(entry)

    writer._put = put  # type: ignore[method-assign]
    writer.write(SHAPES[0])
    got: list[Event] = []
    reader.take(PID, got)
    assert got == [SHAPES[0], inner]


def told(event: Event) -> tuple[str, str, dict[str, Any] | None, str, int, int]:
    """A record as mpviz.sync tells it (``RingWriter.record``): its site and thread apart, no data as None."""
    rest = {k: v for k, v in event.data.items() if k not in ("at", "th")}
    return event.kind, event.obj, rest or None, event.data.get("at", ""), event.data.get("th", 0), event.t_ns


def test_operations_told_in_parts_come_out_as_the_records_they_are_also_across_the_end() -> None:
    """``record``'s own ways (a lock's record packed in place, a queue's through ``_hot``, the rest
    marshalled) give what ``write`` gives, round the end of the ring too."""
    writer, reader = pair()
    ours = [e for e in EVERY_ENTRY if e.pid == PID]
    got: list[Event] = []
    for _ in range(3):
        for event in ours:
            writer.record(*told(event))
            reader.take(PID, got)
    assert got == ours * 3
    assert reader.malformed == 0 and writer.lost == 0


def test_a_signal_handler_reporting_mid_operation_keeps_both() -> None:
    writer, reader = pair(1 << 16)
    first = Event(1, PID, "lock.acquired", "7@1", {"at": "7@2"})
    writer.record(*told(first))  # its names defined: the next lock record is packed in place
    outer = first._replace(t_ns=2)
    inner = Event(3, PID, "lock.released", "7@1", {"at": "7@2"})
    texts = writer._texts
    handled: list[Event] = []

    class Interrupted(dict[str, int]):
        def get(self, key: str, default: Any = None) -> Any:  # a signal handler runs in the middle of the record
            if not handled:
                handled.append(inner)
                writer.record(*told(inner))
            return texts.get(key, default)

    writer._texts = Interrupted(texts)
    writer.record(*told(outer))
    got: list[Event] = []
    reader.take(PID, got)
    assert handled and got == [first, outer, inner]


def test_operations_of_many_threads_are_neither_mixed_nor_lost() -> None:
    """Threads switched as often as the interpreter can: each record whole, each thread's all there, in its order."""
    writer, reader = pair(1 << 20)
    n = 3000
    ready = threading.Barrier(4)

    def tell(th: int) -> None:
        ready.wait()
        for i in range(n):
            writer.record("lock.acquired" if i % 2 else "lock.released", "7@1", None, "7@2", th, i)

    was = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=tell, args=(th,)) for th in (11, 12, 13, 14)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(was)
    got: list[Event] = []
    reader.take_all(PID, got)
    assert reader.malformed == 0 and writer.lost == 0
    for th in (11, 12, 13, 14):
        assert [e.t_ns for e in got if e.data.get("th") == th] == list(range(n))


def test_a_signal_handler_operating_at_any_moment_loses_nothing_and_never_hangs() -> None:
    """A real timer signal, up to thousands of times a second, whose handler takes and lets go a lock and
    releases a semaphore, while the main thread takes and lets go another lock: every operation of both
    is in the ring, whole.  (The timer is armed again as the handler ends: a handler interrupted by the
    next one, again and again on a loaded machine, would only measure the recursion limit.)"""
    from mpviz import sync

    writer, reader = pair(1 << 22)

    install_reporter(_straight(writer))
    got: list[Event] = []
    done = handled = released = 0
    try:
        main_lock, handler_lock, sem = sync.Lock(name="main"), sync.Lock(name="handler"), sync.Semaphore(0, name="s")

        def handler(signum: int, frame: Any) -> None:
            nonlocal handled, released
            sem.release()
            released += 1
            with handler_lock:
                handled += 1
            if running:  # (a signal caught as the timer is stopped runs this after: no timer again)
                signal.setitimer(signal.ITIMER_REAL, 1e-4)

        running = True
        old = signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, 1e-4)
        try:
            deadline = time.monotonic() + 120
            while handled < 1000 and time.monotonic() < deadline:
                for _ in range(500):
                    with main_lock:
                        done += 1
                reader.take_all(PID, got)  # (room for the next ones)
        finally:
            running = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        # One record more after the last signal: a handler's record made in the few steps between the
        # interrupted record's last look at _later and its end waits there for the next record.
        with main_lock:
            done += 1
    finally:
        uninstall_reporter()
    reader.take_all(PID, got)
    assert reader.malformed == 0 and writer.lost == 0 and handled >= 1000
    count = Counter((e.kind, e.obj) for e in got)
    assert count["lock.acquired", main_lock.id] == count["lock.released", main_lock.id] == done
    assert count["lock.acquired", handler_lock.id] == count["lock.released", handler_lock.id] == handled
    assert count["sem.released", sem.id] == released


def test_a_forked_child_writes_in_a_ring_of_its_own() -> None:
    writer, reader = pair()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        code = 0 if not writer.ours() else 1
        writer.forget()
        os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert writer.ours()
    writer.write(SHAPES[0])
    got: list[Event] = []
    reader.take(PID, got)
    assert got == [SHAPES[0]]


def test_a_process_blocked_for_good_has_its_records_seen_while_it_waits() -> None:
    """Nothing waits in the process to be sent: what it did before it blocked is read while it waits
    (its records in the ring, the dashboard woken by the first of them if it slept)."""
    from helpers.watching import watching
    from helpers.workers import burst_then_blocked

    from mpviz import sync

    ctx = sync.get_context("spawn")
    with watching() as got:
        lock = ctx.Lock(name="held")
        lock.acquire()
        child = ctx.Process(target=burst_then_blocked, args=(lock, 500))
        child.start()
        try:
            waits = got.wait_for("lock.wait", 1, lock.id, timeout=60)
            assert waits[0].pid == child.pid and child.is_alive()
            assert len([e for e in got.of("proc.state", "burst") if e.pid == child.pid]) == 500
        finally:
            lock.release()
            child.join(30)


def test_a_ring_read_while_another_process_floods_it_gives_each_record_once_in_order() -> None:
    """The reader sees the writer's head move in whole steps (a head read half moved looked like a
    step back: records read twice, then the rest taken for garbage)."""
    import socket

    n = 300_000
    ours, theirs = socket.socketpair()
    child = os.fork()
    if child == 0:  # pragma: no cover (the writer)
        try:
            writer = RingWriter(1 << 16)
            assert writer.fd is not None
            socket.send_fds(theirs, [b"r"], [writer.fd])
            writer.handed()
            pid = os.getpid()
            for i in range(n):
                writer.write(Event(i, pid, "proc.state", "flood", {"i": i}))
                if i % 1000 == 0:
                    writer.write(Event(i, pid, "lock.acquired", "L", {"at": "here"}))
        finally:
            os._exit(0)
    _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    reader = RingReader(fds[0])
    got: list[Event] = []
    while os.waitpid(child, os.WNOHANG) == (0, 0):
        reader.take(child, got)
    reader.take_all(child, got)
    ours.close()
    theirs.close()
    flood = [e.data["i"] for e in got if e.obj == "flood"]
    lost = sum(e.data["n"] for e in got if e.kind == "proc.lost")
    assert reader.malformed == 0
    assert flood == sorted(set(flood))  # each once, in order
    assert len(flood) + len([e for e in got if e.kind == "lock.acquired"]) + lost == n + n // 1000


def _straight(writer: RingWriter) -> Callable[[Event], None]:
    """A reporter that writes into ``writer``, and lets a lock's records go straight into it
    (``RingWriter.bare``)."""

    class Ring:
        operation = writer.record
        ring = writer

        def __call__(self, event: Event) -> None:
            writer.write(event)

    return Ring()


def _lock_records(reader: RingReader, lock_id: str) -> tuple[list[Event], list[Event]]:
    """Every record the ring holds, and those of the lock ``lock_id``'s operations among them."""
    got: list[Event] = []
    reader.take_all(PID, got)
    return got, [e for e in got if e.obj == lock_id and e.kind.startswith("lock.")]


def test_a_locks_records_written_straight_carry_their_own_site_and_thread() -> None:
    """``RingWriter.bare`` (a lock's records in one call) from the main thread, then from threads one
    after another, which the system gives the same ident: each record with its own site and thread,
    as the long way says them (a thread's end takes it out of what the ring was told)."""
    from mpviz import sync

    writer, reader = pair(1 << 20)

    install_reporter(_straight(writer))
    tids: list[int] = []
    try:
        lock = sync.Lock(name="l")

        def work() -> None:
            for _ in range(3):
                with lock:
                    pass

        def thread() -> None:
            tids.append(threading.get_native_id())
            work()

        work()
        for _ in range(3):
            t = threading.Thread(target=thread)
            t.start()
            t.join(60)
        told_places = len(writer.places)
    finally:
        uninstall_reporter()
    got, ours = _lock_records(reader, lock.id)
    assert [e.kind for e in ours] == ["lock.acquired", "lock.released"] * 12
    assert [e.data.get("th") for e in ours] == [None] * 6 + [tid for tid in tids for _ in range(6)]
    (site,) = {e.data["at"] for e in ours}
    (new,) = [e for e in got if e.kind == "site.new" and e.obj == site]
    assert new.data["text"] == "with lock:"
    assert told_places == 2  # the with's acquire and its release: the rest went straight
    assert reader.malformed == 0 and writer.lost == 0


def test_functions_alike_each_have_their_own_site_written_straight() -> None:
    """Two functions of the same instructions have their lock's acquire and release at the same
    offsets: ``bare`` finds a site by its offset, then, for a code other than the first told there,
    by the code's id (``RingWriter.elsewhere``).  Each record carries its own function's site, and
    after each function's first round every record went straight."""
    from mpviz import sync

    writer, reader = pair(1 << 20)

    learnt: list[int] = []  # the offsets of the records said the long way (the ring is told their site)
    learn = writer.learn
    writer.learn = lambda code, offset, at: (learnt.append(offset), learn(code, offset, at))[1]  # type: ignore[method-assign]
    install_reporter(_straight(writer))
    try:
        lock = sync.Lock(name="l")

        def first() -> None:
            with lock:
                pass

        def second() -> None:
            with lock:
                pass

        assert first.__code__.co_code == second.__code__.co_code  # (the same offsets)
        for _ in range(4):
            first()
            second()
        told = (dict(writer.places), dict(writer.elsewhere))
    finally:
        uninstall_reporter()
    got, ours = _lock_records(reader, lock.id)
    assert [e.kind for e in ours] == ["lock.acquired", "lock.released"] * 8
    lines = {e.obj: e.data["line"] for e in got if e.kind == "site.new"}
    line = first.__code__.co_firstlineno + 1
    assert [lines[e.data["at"]] for e in ours] == [line, line, line + 4, line + 4] * 4
    places, elsewhere = told
    assert {code for code, _ in places.values()} == {first.__code__}
    assert len(places) == 2  # the with's acquire and its release, in the first function
    assert {code for code, _ in elsewhere.values()} == {second.__code__}
    assert len(elsewhere) == 2  # the same two in the second
    assert len(learnt) == 4 and learnt[:2] == learnt[2:]  # each function's first round: the rest went straight
    assert reader.malformed == 0 and writer.lost == 0


def test_a_queues_records_written_straight_carry_their_item_site_and_thread() -> None:
    """``RingWriter.item`` (a put's or a get's record in one call) from the main thread, then from
    threads one after another: each record with its item's text, whether it is None, its own site
    and its thread, as the long way says them."""
    from mpviz import sync
    from mpviz.sync.base import item_text

    writer, reader = pair(1 << 20)

    install_reporter(_straight(writer))
    items: list[object] = [1, None, "é" * 500, b"\x00", ("t", 2)]
    tids: list[int] = []
    q = sync.Queue(name="q")
    try:

        def work() -> None:
            for item in items:
                q.put(item)
                assert q.get(timeout=60) == item

        def thread() -> None:
            tids.append(threading.get_native_id())
            work()

        work()
        for _ in range(2):
            t = threading.Thread(target=thread)
            t.start()
            t.join(60)
        told_places = len(writer.places)
    finally:
        uninstall_reporter()
        q.close()
        q.join_thread()
    got: list[Event] = []
    reader.take_all(PID, got)
    ours = [e for e in got if e.obj == q.id and e.kind.startswith("queue.")]
    assert [e.kind for e in ours] == ["queue.put", "queue.get"] * len(items) * 3
    said = [{"item": item_text(item), "none": item is None} for item in items for _ in range(2)] * 3
    assert [{k: e.data[k] for k in ("item", "none")} for e in ours] == said
    per_thread = 2 * len(items)
    assert [e.data.get("th") for e in ours] == [None] * per_thread + [tid for tid in tids for _ in range(per_thread)]
    put_site, get_site = ours[0].data["at"], ours[1].data["at"]
    assert put_site != get_site
    assert [e.data["at"] for e in ours] == [put_site, get_site] * len(items) * 3
    texts = {e.obj: e.data["text"] for e in got if e.kind == "site.new"}
    assert texts[put_site] == "q.put(item)" and texts[get_site] == "assert q.get(timeout=60) == item"
    assert told_places == 2  # the put's and the get's: the rest went straight
    assert reader.malformed == 0 and writer.lost == 0
