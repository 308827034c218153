"""Sensitive-word screening: titles, bodies, comments and account names against the editors' list.

How a text is matched:

1. **Folding.** Each character is folded on its own: compatibility decomposition (NFKD: full-width
   ``ＡＢＣ１２３`` and half-width katakana become ordinary characters, ``①`` becomes ``1``), case
   folding, and removal of everything that is not a letter or a digit: spaces, punctuation, symbols
   (``* · _ - ★`` and emoji), zero-width and other format characters, combining marks (so accents
   are ignored). Terms are folded the same way when they are saved, so ``赌 博``, ``赌·博``,
   ``赌\\u200b博``, ``赌\\n博`` meet ``赌博`` and ``ＦＵＣＫ`` or ``F.u.C.k`` meet ``fuck``. A map from each
   folded character back to its original offset is kept, so a match can be shown in the text the
   author wrote. Traditional/simplified conversion is out of scope: add both forms as terms.
2. **Matching** uses one Aho-Corasick automaton (pyahocorasick) over the folded text, so the cost
   is linear in the text whatever the size of the list.
3. **Latin word boundaries.** Dropping separators is what catches ``f u c k``, but it also glues
   words together (``this hit`` → ``thishit`` contains ``shit``). A term that starts (ends) with a
   Latin letter or digit therefore only counts when the original character just before (after) the
   match is not one: ``class`` does not match ``ass`` and ``sexy`` does not match ``sex`` (add
   ``sexy`` if you want it). Chinese terms have no such check, because Chinese has no spaces; the
   price is that a Chinese term can match across punctuation (``豪赌。博物馆`` contains ``赌博``).
   Editors keep such terms at 'review' rather than 'block' when that matters.

The automaton is built once per process and rebuilt when the list changes: every change writes a
new version key into the Django cache (shared by all app servers), and each process compares its
version with the cache at most once a second.
"""

import bisect
import contextlib
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

VERSION_KEY = "moderation:terms:version"
CHECK_SECONDS = 1.0
MAX_TERM_LENGTH = 100

ALLOW, REVIEW, BLOCK = "allow", "review", "block"
_RANK = {ALLOW: 0, REVIEW: 1, BLOCK: 2}

# Characters that fold to themselves (verified in the tests): runs of them are copied in one go,
# so ordinary Chinese text is mostly handled in C.
_PLAIN = "a-z0-9\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3"
_RUNS = re.compile(f"([{_PLAIN}]+)|[^{_PLAIN}]+")
_DROPPED = frozenset("ZPSCM")  # general categories: separators, punctuation, symbols, control/format, marks
_FOLD_CACHE: dict[str, str] = {}
_FOLD_CACHE_LIMIT = 100_000


def _fold_uncached(ch: str) -> str:
    kept = "".join(
        c for c in unicodedata.normalize("NFKD", ch).casefold() if unicodedata.category(c)[0] not in _DROPPED
    )
    return unicodedata.normalize("NFC", kept)  # recomposes Hangul syllables


def fold_char(ch: str) -> str:
    """One character folded: '' for a separator, usually one character, sometimes more (ß → ss)."""
    folded = _FOLD_CACHE.get(ch)
    if folded is None:
        folded = _fold_uncached(ch)
        if len(_FOLD_CACHE) < _FOLD_CACHE_LIMIT:
            _FOLD_CACHE[ch] = folded
    return folded


def normalise_term(term: str) -> str:
    """The key a term is stored and matched under."""
    return "".join(fold_char(ch) for ch in term)


class Folded:
    """A folded text and the way back: folded position → offset in the original."""

    __slots__ = ("_norm_starts", "_orig_starts", "text")

    def __init__(self, text: str, norm_starts: list[int], orig_starts: list[int]) -> None:
        self.text = text
        # Segment k covers folded positions norm_starts[k]… and original offsets orig_starts[k]…, one for one.
        self._norm_starts = norm_starts
        self._orig_starts = orig_starts

    def original(self, position: int) -> int:
        k = bisect.bisect_right(self._norm_starts, position) - 1
        return self._orig_starts[k] + (position - self._norm_starts[k])


def fold(text: str) -> Folded:
    parts: list[str] = []
    norm_starts: list[int] = []
    orig_starts: list[int] = []
    n = 0
    follows = -1  # original offset a one-for-one continuation of the current segment would have
    for m in _RUNS.finditer(text):
        start = m.start()
        if m.group(1) is not None:  # plain run: copied as is
            run = m.group(1)
            if start != follows:
                norm_starts.append(n)
                orig_starts.append(start)
            parts.append(run)
            n += len(run)
            follows = m.end()
            continue
        for i, ch in enumerate(m.group(), start):
            folded = fold_char(ch)
            if not folded:
                continue
            if len(folded) == 1:
                if i != follows:
                    norm_starts.append(n)
                    orig_starts.append(i)
                follows = i + 1
            else:  # each expanded character points at the one it came from
                for k in range(len(folded)):
                    norm_starts.append(n + k)
                    orig_starts.append(i)
                follows = -1
            parts.append(folded)
            n += len(folded)
    return Folded("".join(parts), norm_starts, orig_starts)


def _is_word(ch: str) -> bool:
    """A letter or digit of a script written with spaces between words (Latin, Cyrillic, …)."""
    return ch.isalnum() and ch < "\u2e80"


class Match(NamedTuple):
    term: str
    action: str  # REVIEW or BLOCK
    span: tuple[int, int]  # [start, end) in the original text


@dataclass(frozen=True)
class ScreeningResult:
    action: str = ALLOW
    matches: list[Match] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.action == BLOCK

    @property
    def held(self) -> bool:
        return self.action == REVIEW

    def terms(self, action: str | None = None) -> list[str]:
        """Distinct matched terms in order of first appearance, optionally of one action."""
        seen = dict.fromkeys(m.term for m in self.matches if action is None or m.action == action)
        return list(seen)


@dataclass
class _Compiled:
    version: str | None
    automaton: ahocorasick.Automaton | None
    size: int
    checked_at: float


_state: _Compiled | None = None
_lock = threading.Lock()


def _build(version: str | None) -> _Compiled:
    from masthead.moderation.models import SensitiveTerm

    automaton = ahocorasick.Automaton()
    rows = SensitiveTerm.objects.filter(is_active=True).order_by().values_list("term", "action")
    for term, action in rows:
        key = normalise_term(term)  # stored folded already; folding again guards rows written around save()
        if key:
            automaton.add_word(key, (key, action, _is_word(key[0]), _is_word(key[-1])))
    size = len(automaton)
    if size:
        automaton.make_automaton()
    return _Compiled(version, automaton if size else None, size, time.monotonic())


def _read_version() -> str | None:
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, None)
            version = cache.get(VERSION_KEY)
        return version
    except Exception:  # a cache outage must not stop posting: keep the automaton we have
        return None


def _current() -> _Compiled:
    global _state
    state = _state
    if state is not None and time.monotonic() - state.checked_at < CHECK_SECONDS:
        return state
    with _lock:
        state = _state
        if state is not None and time.monotonic() - state.checked_at < CHECK_SECONDS:
            return state  # another thread checked while we waited
        version = _read_version()
        if state is not None and (version is None or version == state.version):
            state.checked_at = time.monotonic()
            return state
        _state = state = _build(version)
        return state


def bump() -> None:
    """Call after any change to the list: this process rebuilds now, the others within a second."""
    global _state
    _state = None

    def publish() -> None:
        # On a cache outage the other servers catch up when the key next changes.
        with contextlib.suppress(Exception):
            cache.set(VERSION_KEY, uuid.uuid4().hex, None)

    publish()  # now, for readers in this transaction's process…
    transaction.on_commit(publish)  # …and again once others can read the committed rows


def reset() -> None:
    """Forget the automaton (tests: the database was rolled back behind our back)."""
    global _state
    _state = None


def screen(text: str | None) -> ScreeningResult:
    """Screen one text; the result's action is the strictest of its matches."""
    if not text:
        return ScreeningResult()
    compiled = _current()
    if compiled.automaton is None:
        return ScreeningResult()
    folded = fold(text)
    matches: list[Match] = []
    worst = ALLOW
    for end, (key, action, word_start, word_end) in compiled.automaton.iter(folded.text):
        start = folded.original(end - len(key) + 1)
        stop = folded.original(end) + 1
        if word_start and start > 0 and _is_word(fold_char(text[start - 1])[-1:]):
            continue
        if word_end and stop < len(text) and _is_word(fold_char(text[stop])[:1]):
            continue
        matches.append(Match(key, action, (start, stop)))
        if _RANK[action] > _RANK[worst]:
            worst = action
    matches.sort(key=lambda m: (m.span, m.term))
    return ScreeningResult(worst, matches)


def _quoted(terms: Iterable[str]) -> str:
    return join_list(f"“{term}”" for term in terms)


def check(text: str | None, field_label: str, *, field: str | None = None) -> bool:
    """Raise ValidationError naming the terms if the text is blocked; True if it must be held for review.

    ``field_label`` names the field in the message, e.g. "标题" → "标题含有不允许的词语“…”，请修改后再提交。";
    with ``field`` the error is attached to that form field (``{field: [error]}``).
    Screen what readers see: for HTML, pass ``strip_tags`` of it, not the markup.
    """
    result = screen(text)
    if result.blocked:
        error = ValidationError(
            _("%(field)s含有不允许的词语%(terms)s，请修改后再提交。"),
            code="sensitive",
            params={"field": field_label, "terms": _quoted(result.terms(BLOCK))},
        )
        raise ValidationError({field: [error]}) if field else error
    return result.held


def highlight(text: str, result: ScreeningResult) -> SafeString:
    """The text escaped, with each match wrapped in <mark> (overlapping matches merged)."""
    out, pos = [], 0
    for start, stop in _merged(m.span for m in result.matches):
        out += [escape(text[pos:start]), "<mark>", escape(text[start:stop]), "</mark>"]
        pos = stop
    out.append(escape(text[pos:]))
    return mark_safe("".join(out))  # every piece of user text above is escaped


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


# --- managing the list (every change is audited and bumps the version) ------------------------------------


@dataclass
class AddOutcome:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # existed inactive or with another action
    unchanged: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # only separators, or too long


MAX_LINES = 1000


def _require_editor(by) -> None:
    from masthead.accounts.roles import is_editor

    if not is_editor(by):
        raise PermissionDenied


def term_snapshot(term) -> dict:
    return {"term": term.term, "action": term.action, "note": term.note, "is_active": term.is_active}


def add_terms(lines: str, action: str, by, *, note: str = "") -> AddOutcome:
    """Add one term per line; existing terms are re-activated with the given action."""
    from masthead.moderation import audit
    from masthead.moderation.models import SensitiveTerm

    _require_editor(by)
    if action not in (BLOCK, REVIEW):
        raise ValidationError(_("处理方式无效。"), code="invalid")
    outcome = AddOutcome()
    keys: dict[str, str] = {}
    for line in lines.splitlines():
        if not line.strip():
            continue
        key = normalise_term(line.strip())
        if not key or len(key) > MAX_TERM_LENGTH:
            outcome.invalid.append(line.strip())
        else:
            keys.setdefault(key, line.strip())
    if len(keys) > MAX_LINES:
        raise ValidationError(_("一次最多添加 %(n)d 个词语。") % {"n": MAX_LINES}, code="too_many")
    with transaction.atomic():
        existing = {t.term: t for t in SensitiveTerm.objects.select_for_update().filter(term__in=keys)}
        for key in keys:
            term = existing.get(key)
            if term is None:
                term = SensitiveTerm.objects.create(term=key, action=action, note=note, created_by=by)
                audit.record(by, "term.add", term, after=term_snapshot(term))
                outcome.added.append(key)
            elif term.is_active and term.action == action:
                outcome.unchanged.append(key)
            else:
                before = term_snapshot(term)
                term.action, term.is_active = action, True
                term.note = note or term.note
                term.save(update_fields=["action", "is_active", "note"])
                audit.record(by, "term.change", term, before=before, after=term_snapshot(term))
                outcome.changed.append(key)
        if outcome.added or outcome.changed:
            bump()
    return outcome


def set_active(term, active: bool, by, *, reason: str = "") -> None:
    from masthead.moderation import audit

    _require_editor(by)
    with transaction.atomic():
        term = type(term).objects.select_for_update().get(pk=term.pk)
        if term.is_active == active:
            return
        before = term_snapshot(term)
        term.is_active = active
        term.save(update_fields=["is_active"])
        audit.record(
            by,
            "term.activate" if active else "term.deactivate",
            term,
            reason=reason,
            before=before,
            after=term_snapshot(term),
        )
        bump()


def change_term(term, by, *, action: str, note: str, reason: str = "") -> None:
    from masthead.moderation import audit

    _require_editor(by)
    with transaction.atomic():
        before = term_snapshot(type(term).objects.get(pk=term.pk))
        term.action, term.note = action, note
        term.save(update_fields=["action", "note"])
        audit.record(by, "term.change", term, reason=reason, before=before, after=term_snapshot(term))
        bump()


def delete_term(term, by, *, reason: str = "") -> None:
    from masthead.moderation import audit

    _require_editor(by)
    with transaction.atomic():
        audit.record(by, "term.delete", term, reason=reason, before=term_snapshot(term))
        term.delete()
        bump()


def join_list(items) -> str:
    """Items joined with the reader's list separator (、 in Chinese, a comma in English)."""
    return pgettext("列表分隔符", "、").join(items)
