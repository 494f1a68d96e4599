"""Run by test_staff.py in a child process: write keys, feedback, reviews, citations and
disabled chunks in a loop, printing BEGIN before each write and DONE after its commit,
until it is killed."""

from __future__ import annotations

import os
import random
import sys

from index.staff import Caller, Feedback, StaffStore


def feedback_of(n: int) -> Feedback:
    """Big enough that a kill can land inside the write."""
    return Feedback(rating=1 if n % 2 else -1, question=f"问题{n}：密云区工匠学院怎么运作？", answer="答" * 3000 + str(n),
                    conversation=tuple({"role": "user", "content": f"上一轮{n}-{i}"} for i in range(20)),
                    citations=({"n": 1, "doc_id": f"d{n}", "chunk_id": f"c{n}", "char_start": 0, "char_end": 9},),
                    comment=f"评论{n}", corrected=f"更正{n}")


def say(line: str) -> None:
    os.write(1, f"{line}\n".encode())


def main(path: str, seed: int) -> None:
    staff = StaffStore(path)
    by = Caller("worker", "admin")
    rnd = random.Random(seed)
    say("READY")
    n = 0
    while True:
        n += 1
        op = rnd.choice(["feedback", "feedback", "key", "cite", "disable"])
        tag = f"{seed}-{n}"
        say(f"BEGIN {op} {tag}")
        if op == "feedback":
            fid = staff.add_feedback(feedback_of(seed * 100000 + n), by=by)
            staff.review_feedback(fid, "confirmed", confirmed_doc_ids=[f"d{tag}"], by=by)
        elif op == "key":
            staff.create_key(f"key {tag}", "reader", by=by)
        elif op == "cite":
            staff.record_citations([(f"d{tag}", f"c{tag}", i, i + 5) for i in range(200)])
        else:
            staff.set_disabled("chunk", f"c{tag}", True, by=by)
        say(f"DONE {op} {tag}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
