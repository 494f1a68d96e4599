"""The staff records: keys hashed and checked, and SIGKILL in the middle of writes loses
nothing committed."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.staff import Caller, Feedback, StaffError, StaffStore
from tests.index.staff_worker import feedback_of

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Caller("test", "admin")


def test_keys_are_checked_by_hash_and_revocation_is_immediate(tmp_path):
    staff = StaffStore(tmp_path / "staff.db")
    key, info = staff.create_key("chat page", "reader", by=ADMIN)
    assert staff.caller_for(key) == Caller("chat page", "reader", info.id)
    assert staff.caller_for(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert staff.caller_for("") is None and staff.caller_for("zr-r") is None
    other = StaffStore(tmp_path / "staff.db")  # another server process
    other.revoke_key(info.id, by=ADMIN)
    assert staff.caller_for(key) is None
    with pytest.raises(StaffError, match="unknown role"):
        staff.create_key("x", "owner", by=ADMIN)  # type: ignore[arg-type]
    with pytest.raises(StaffError, match="no key with id"):
        staff.revoke_key(99, by=ADMIN)


def test_disabled_set_follows_other_processes(tmp_path):
    a, b = StaffStore(tmp_path / "s.db"), StaffStore(tmp_path / "s.db")
    assert not a.disabled()
    b.set_disabled("chunk", "c1", True, by=ADMIN)
    assert a.disabled().chunk_ids == {"c1"}
    a.set_disabled("article", "d1", True, by=ADMIN)
    assert a.disabled().doc_ids == {"d1"} and b.disabled().doc_ids == {"d1"}
    assert not b.set_disabled("article", "d1", True, by=ADMIN), "disabling twice changes nothing"
    b.set_disabled("chunk", "c1", False, by=ADMIN)
    assert a.disabled().chunk_ids == frozenset()


def test_feedback_round_trips_intact(tmp_path):
    staff = StaffStore(tmp_path / "s.db")
    fb = Feedback(rating=-1, question="问题\t😀", answer="答\n案", conversation=({"role": "user", "content": "先"},),
                  citations=({"n": 1, "doc_id": "d"},), refused=True, index_version="m@3", comment="𠀀", corrected="")
    got = staff.get_feedback(staff.add_feedback(fb, by=ADMIN))
    assert got is not None
    assert (got.rating, got.question, got.answer, got.conversation, got.citations, got.refused, got.index_version,
            got.comment) == (fb.rating, fb.question, fb.answer, fb.conversation, fb.citations, True, "m@3", "𠀀")
    with pytest.raises(StaffError):
        staff.add_feedback(Feedback(rating=0, question="q", answer="a"), by=ADMIN)


KILLS = 15


def test_sigkill_mid_write_keeps_every_committed_record(tmp_path):
    path = tmp_path / "staff.db"
    StaffStore(path).close()
    rnd = random.Random(5)
    done: list[tuple[str, str]] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    interrupted = 0
    cut_feedback = 0  # feedback writes a kill interrupted: each may have left its record (added, not reviewed)
    for round_ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-m", "tests.index.staff_worker", str(path), str(round_)], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.stderr else ""
        time.sleep(rnd.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        pending = None
        for line in out.splitlines():
            if not (m := re.fullmatch(r"(BEGIN|DONE) (feedback|key|cite|disable) (\d+-\d+)", line)):
                continue
            if m[1] == "BEGIN":
                pending = (m[2], m[3])
            else:
                done.append((m[2], m[3]))
                pending = None
        interrupted += pending is not None
        cut_feedback += pending is not None and pending[0] == "feedback"
        staff = StaffStore(path)
        try:
            _check(staff, done, pending, cut_feedback)
        finally:
            staff.close()
    assert len(done) > KILLS and interrupted >= KILLS // 2


def _check(staff: StaffStore, done: list[tuple[str, str]], pending: tuple[str, str] | None, cut: int) -> None:
    assert staff._read("PRAGMA integrity_check")[0][0] == "ok"
    fbs = {f.question: f for f in staff.list_feedback(limit=10**6)}
    keys = {k.name for k in staff.list_keys()}
    disabled = staff.disabled().chunk_ids
    for op, tag in done:
        seed, n = map(int, tag.split("-"))
        if op == "feedback":
            want = feedback_of(seed * 100000 + n)
            got = fbs[want.question]
            assert (got.answer, got.conversation, got.citations) == (want.answer, want.conversation, want.citations)
            assert got.status == "confirmed" and got.confirmed_doc_ids == (f"d{tag}",)
        elif op == "key":
            assert f"key {tag}" in keys
        elif op == "cite":
            assert len(staff.cited(f"d{tag}")) == 200
        else:
            assert f"c{tag}" in disabled
    if pending and pending[0] == "cite":
        assert len(staff.cited(f"d{pending[1]}")) in (0, 200), "a batch of citations was half written"
    n_fb = sum(op == "feedback" for op, _ in done)
    assert n_fb <= len(fbs) <= n_fb + cut
    # every committed key and review left its audit entry in the same transaction
    actions = [e.action for e in staff.audit_log(limit=10**6)]
    assert actions.count("key.create") == len(keys)
