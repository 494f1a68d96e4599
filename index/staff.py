"""The staff records beside the knowledge base: API keys, the audit log, answer feedback,
cited passages and disabled articles or chunks.

Kept in their own SQLite file (``Settings.staff_db``), not in the knowledge base: a
knowledge base is rebuilt, moved aside or backed up as a whole, and none of that may
touch who holds which key or what staff said about an answer. The same rules hold as
for the knowledge base: WAL, ``synchronous=FULL``, every change one transaction, so a
kill leaves each record either fully there or not there at all.

Keys are stored as SHA-256 digests only. A key is 32 random bytes, so a slow password
hash adds nothing; a stolen file gives no key that works. The digest of a presented key
is compared with ``hmac.compare_digest`` (constant time), after a lookup by the key's
public prefix, which is not secret.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Role = Literal["reader", "editor", "admin"]
ROLES: tuple[Role, ...] = ("reader", "editor", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}
KEY_PREFIX_CHARS = 12  # "zr-" + role letter + 8 random characters: shown in listings, not secret
FEEDBACK_STATUSES = ("new", "confirmed", "rejected")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, prefix TEXT NOT NULL UNIQUE,
    digest TEXT NOT NULL, created REAL NOT NULL, created_by TEXT NOT NULL, revoked REAL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, actor TEXT NOT NULL, rating INTEGER NOT NULL,
    question TEXT NOT NULL, conversation TEXT NOT NULL, answer TEXT NOT NULL, citations TEXT NOT NULL,
    refused INTEGER NOT NULL, index_version TEXT NOT NULL, comment TEXT NOT NULL, corrected TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new', confirmed_doc_ids TEXT NOT NULL DEFAULT '[]',
    reviewed_at REAL, reviewer TEXT);
CREATE INDEX IF NOT EXISTS feedback_status ON feedback(status, id);
CREATE TABLE IF NOT EXISTS cited (
    doc_id TEXT NOT NULL, chunk_id TEXT NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    times INTEGER NOT NULL, last REAL NOT NULL, PRIMARY KEY (doc_id, char_start, char_end, chunk_id));
CREATE TABLE IF NOT EXISTS disabled (
    kind TEXT NOT NULL, target TEXT NOT NULL, at REAL NOT NULL, actor TEXT NOT NULL,
    PRIMARY KEY (kind, target));
"""


class StaffError(ValueError):
    """A request the staff records cannot take (unknown role, no such key...); the message says why."""


@dataclass(frozen=True)
class Caller:
    """Who made a request: a stored key, a key from the environment, or nobody (open mode)."""

    name: str
    role: Role
    key_id: int | None = None

    def may(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]

    @property
    def actor(self) -> str:
        return f"key {self.key_id} ({self.name})" if self.key_id is not None else self.name


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    role: Role
    prefix: str
    created: float
    created_by: str
    revoked: float | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Feedback:
    """One rated answer, with everything needed to turn it into an evaluation query."""

    rating: int  # +1 or -1
    question: str
    answer: str
    conversation: tuple[dict[str, str], ...] = ()
    citations: tuple[dict[str, Any], ...] = ()
    refused: bool = False
    index_version: str = ""
    comment: str = ""
    corrected: str = ""
    # Set by the store and by review:
    id: int = 0
    at: float = 0.0
    actor: str = ""
    status: str = "new"
    confirmed_doc_ids: tuple[str, ...] = ()
    reviewed_at: float | None = None
    reviewer: str | None = None


@dataclass(frozen=True)
class Disabled:
    """Articles and chunks that retrieval must skip."""

    doc_ids: frozenset[str] = frozenset()
    chunk_ids: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.chunk_ids)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key(role: Role) -> str:
    return f"zr-{role[0]}{secrets.token_urlsafe(32)}"


def embed_snippet(base_url: str, key: str) -> str:
    """The one tag an intranet page needs to embed the chat; made only for reader keys,
    because whatever is in a page's HTML is readable by everyone who opens it."""
    src = html.escape(base_url.rstrip("/") + "/chat/embed.js", quote=True)
    return f'<script src="{src}" data-key="{html.escape(key, quote=True)}" async></script>'


def _feedback(r: sqlite3.Row) -> Feedback:
    return Feedback(rating=r["rating"], question=r["question"], answer=r["answer"],
                    conversation=tuple(json.loads(r["conversation"])), citations=tuple(json.loads(r["citations"])),
                    refused=bool(r["refused"]), index_version=r["index_version"], comment=r["comment"],
                    corrected=r["corrected"], id=r["id"], at=r["at"], actor=r["actor"], status=r["status"],
                    confirmed_doc_ids=tuple(json.loads(r["confirmed_doc_ids"])), reviewed_at=r["reviewed_at"],
                    reviewer=r["reviewer"])


@dataclass
class StaffStore:
    """The staff records in one SQLite file; safe to share between threads and processes."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _disabled: tuple[int, Disabled] = field(default=(-1, Disabled()), repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ keys

    def create_key(self, name: str, role: Role, *, by: Caller) -> tuple[str, KeyInfo]:
        """A new key; the key itself is returned once and never stored."""
        if role not in ROLES:
            raise StaffError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        key = new_key(role)
        prefix = key[:KEY_PREFIX_CHARS]
        now = time.time()
        with self._tx() as db:
            kid = db.execute("INSERT INTO keys(name, role, prefix, digest, created, created_by) VALUES (?,?,?,?,?,?)",
                             (name, role, prefix, digest(key), now, by.actor)).lastrowid
            assert kid is not None
            self._audit(db, by, "key.create", f"key {kid}", {"name": name, "role": role, "prefix": prefix})
        return key, KeyInfo(kid, name, role, prefix, now, by.actor, None)

    def revoke_key(self, key_id: int, *, by: Caller) -> KeyInfo:
        with self._tx() as db:
            row = db.execute("SELECT * FROM keys WHERE id = ?", (key_id,)).fetchone()
            if row is None:
                raise StaffError(f"no key with id {key_id}")
            if row["revoked"] is None:
                db.execute("UPDATE keys SET revoked = ? WHERE id = ?", (time.time(), key_id))
                self._audit(db, by, "key.revoke", f"key {key_id}", {"name": row["name"], "role": row["role"]})
        info = self.get_key(key_id)
        assert info is not None
        return info

    def get_key(self, key_id: int) -> KeyInfo | None:
        rows = self._read("SELECT * FROM keys WHERE id = ?", (key_id,))
        return self._key(rows[0]) if rows else None

    @staticmethod
    def _key(r: sqlite3.Row) -> KeyInfo:
        return KeyInfo(r["id"], r["name"], r["role"], r["prefix"], r["created"], r["created_by"], r["revoked"])

    def list_keys(self) -> list[KeyInfo]:
        return [self._key(r) for r in self._read("SELECT * FROM keys ORDER BY id")]

    def has_active_keys(self) -> bool:
        return bool(self._read("SELECT 1 FROM keys WHERE revoked IS NULL LIMIT 1"))

    def caller_for(self, key: str) -> Caller | None:
        """The active key's holder, or None for an unknown or revoked key."""
        rows = self._read("SELECT id, name, role, digest FROM keys WHERE prefix = ? AND revoked IS NULL",
                          (key[:KEY_PREFIX_CHARS],))
        want = digest(key).encode()
        for r in rows:
            if hmac.compare_digest(want, r["digest"].encode()):
                return Caller(r["name"], r["role"], r["id"])
        return None

    # ------------------------------------------------------------------ audit

    @staticmethod
    def _audit(db: sqlite3.Connection, by: Caller, action: str, target: str, detail: dict[str, Any]) -> None:
        db.execute("INSERT INTO audit(at, actor, role, action, target, detail) VALUES (?,?,?,?,?,?)",
                   (time.time(), by.actor, by.role, action, target, json.dumps(detail, ensure_ascii=False)))

    def audit(self, by: Caller, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        """Record a write made elsewhere (the knowledge base), after it committed."""
        with self._tx() as db:
            self._audit(db, by, action, target, detail or {})

    def audit_log(self, offset: int = 0, limit: int = 100) -> list[AuditEntry]:
        rows = self._read("SELECT * FROM audit ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset))
        return [AuditEntry(r["id"], r["at"], r["actor"], r["role"], r["action"], r["target"], json.loads(r["detail"]))
                for r in rows]

    # ------------------------------------------------------------------ feedback

    def add_feedback(self, fb: Feedback, *, by: Caller) -> int:
        if fb.rating not in (1, -1):
            raise StaffError("rating must be 1 (up) or -1 (down)")
        with self._tx() as db:
            fid = db.execute(
                "INSERT INTO feedback(at, actor, rating, question, conversation, answer, citations, refused, "
                "index_version, comment, corrected) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (time.time(), by.actor, fb.rating, fb.question, json.dumps(list(fb.conversation), ensure_ascii=False),
                 fb.answer, json.dumps(list(fb.citations), ensure_ascii=False), int(fb.refused), fb.index_version,
                 fb.comment, fb.corrected)).lastrowid
        assert fid is not None
        return fid

    def get_feedback(self, fid: int) -> Feedback | None:
        rows = self._read("SELECT * FROM feedback WHERE id = ?", (fid,))
        return _feedback(rows[0]) if rows else None

    def list_feedback(self, status: str | None = None, offset: int = 0, limit: int = 100) -> list[Feedback]:
        if status is not None and status not in FEEDBACK_STATUSES:
            raise StaffError(f"unknown status {status!r}; one of {', '.join(FEEDBACK_STATUSES)}")
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        return [_feedback(r) for r in self._read(f"SELECT * FROM feedback {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                                                 [*args, limit, offset])]

    def review_feedback(self, fid: int, status: str, *, confirmed_doc_ids: Sequence[str] = (),
                        corrected: str | None = None, by: Caller) -> Feedback:
        """An editor's verdict: ``confirmed`` (with the citations that really answer it) or ``rejected``."""
        if status not in FEEDBACK_STATUSES[1:]:
            raise StaffError(f"a review sets status to {' or '.join(FEEDBACK_STATUSES[1:])}, not {status!r}")
        with self._tx() as db:
            row = db.execute("SELECT corrected FROM feedback WHERE id = ?", (fid,)).fetchone()
            if row is None:
                raise StaffError(f"no feedback with id {fid}")
            fixed = row["corrected"] if corrected is None else corrected
            db.execute("UPDATE feedback SET status = ?, confirmed_doc_ids = ?, corrected = ?, reviewed_at = ?, "
                       "reviewer = ? WHERE id = ?",
                       (status, json.dumps(list(dict.fromkeys(confirmed_doc_ids)), ensure_ascii=False), fixed,
                        time.time(), by.actor, fid))
            self._audit(db, by, "feedback.review", f"feedback {fid}",
                        {"status": status, "confirmed_doc_ids": list(confirmed_doc_ids)})
        fb = self.get_feedback(fid)
        assert fb is not None
        return fb

    # ------------------------------------------------------------------ cited passages

    def record_citations(self, quotes: Sequence[tuple[str, str, int, int]]) -> None:
        """Count the sentences answers quoted, as (doc_id, chunk_id, start, end) in article offsets."""
        if not quotes:
            return
        now = time.time()
        with self._tx() as db:
            db.executemany("INSERT INTO cited(doc_id, chunk_id, char_start, char_end, times, last) "
                           "VALUES (?,?,?,?,1,?) ON CONFLICT DO UPDATE SET times = times + 1, last = excluded.last",
                           [(*q, now) for q in quotes])

    def cited(self, doc_id: str) -> list[tuple[str, int, int, int]]:
        """(chunk_id, start, end, times) for the article's quoted sentences."""
        return [(r["chunk_id"], r["char_start"], r["char_end"], r["times"])
                for r in self._read("SELECT * FROM cited WHERE doc_id = ? ORDER BY char_start", (doc_id,))]

    # ------------------------------------------------------------------ disabled articles and chunks

    def set_disabled(self, kind: Literal["article", "chunk"], target: str, disabled: bool, *, by: Caller) -> bool:
        """Disable or re-enable; returns whether anything changed."""
        with self._tx() as db:
            if disabled:
                changed = db.execute("INSERT OR IGNORE INTO disabled(kind, target, at, actor) VALUES (?,?,?,?)",
                                     (kind, target, time.time(), by.actor)).rowcount
            else:
                changed = db.execute("DELETE FROM disabled WHERE kind = ? AND target = ?", (kind, target)).rowcount
            if changed:
                self._audit(db, by, f"{kind}.{'disable' if disabled else 'enable'}", f"{kind} {target}", {})
        self._disabled = (-1, Disabled())  # data_version does not move for this connection's own commits
        return bool(changed)

    def disabled(self) -> Disabled:
        """What retrieval skips. Re-read only when the file changed (``PRAGMA data_version``
        moves when any connection, in any process, commits), so a query pays one pragma."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._disabled[0]:
                return self._disabled[1]
            rows = self._db.execute("SELECT kind, target FROM disabled").fetchall()
        d = Disabled(frozenset(r["target"] for r in rows if r["kind"] == "article"),
                     frozenset(r["target"] for r in rows if r["kind"] == "chunk"))
        self._disabled = (version, d)
        return d
