"""The probe's values and its verdict rules: pure, so each rule is tested without a server.

A ``Check`` is data (its id, group, what AWS documents) plus a short coroutine that sends raw
requests and turns the answer into an ``Observation`` with the helpers below. The verdicts:

- ``enforced``: the server did what the AWS documentation says: it refused what must be
  refused, or did exactly what it must do (``documented`` says whether the status and error
  code were the documented ones too);
- ``accepted``: a request that must be refused was accepted, or a feature's request was
  answered 2xx but the feature was silently not applied (accepted without checking);
- ``unsupported``: the server answered with a typed refusal (an S3 error document or 501)
  instead of doing what is documented;
- ``wrong``: an answer no documented behaviour explains: a 2xx that stored or returned the
  wrong bytes, a 200 whose body is an error document, an error without a typed body;
- ``error``: the check itself failed (the connection broke, it timed out, the probe crashed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from rawS3.errors import ResponseError
from rawS3.raw import RawResponse
from rawS3.xml import ErrorDocument, parse_error

__all__ = [
    "VERDICTS",
    "Check",
    "Observation",
    "Result",
    "StepRefusedError",
    "Verdict",
    "error_of",
    "excerpt",
    "feature",
    "observe",
    "refusal",
    "register",
    "require",
]

Verdict = Literal["enforced", "accepted", "unsupported", "wrong", "error"]
VERDICTS: tuple[Verdict, ...] = ("enforced", "accepted", "unsupported", "wrong", "error")
EXCERPT_LENGTH = 120


@dataclass(frozen=True, slots=True)
class Observation:
    """What a check saw, and what it makes of it.

    Attributes:
        verdict: one of ``VERDICTS``.
        status: the HTTP status of the answer that decided, if there was one.
        code: the S3 error code of that answer, if it had one.
        detail: a short excerpt or explanation of what the server did.
        documented: whether the answer is the documented one to the letter (for a refusal:
            the documented status and code, not merely a refusal).
    """

    verdict: Verdict
    status: int | None = None
    code: str | None = None
    detail: str = ""
    documented: bool = False


@dataclass(frozen=True, slots=True)
class Check:
    """One row of the catalogue: data, and the coroutine that runs it.

    Attributes:
        id: a stable dotted name, e.g. ``auth.wrong-secret``.
        group: the group ``--only`` selects it by.
        expectation: what the AWS documentation says the server does.
        run: called with the probe's context; returns the observation.
    """

    id: str
    group: str
    expectation: str
    run: Callable[[Any], Awaitable[Observation]] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Result:
    """A check and its observation, with how long it took.

    Attributes:
        check: the check.
        observation: what it saw.
        seconds: its duration.
    """

    check: Check
    observation: Observation
    seconds: float


def excerpt(body: bytes, limit: int = EXCERPT_LENGTH) -> str:
    """A short, printable, one-line excerpt of a body.

    Args:
        body: the bytes.
        limit: the most characters kept.

    Returns:
        The text (undecodable bytes replaced), whitespace runs folded, cut with ``…``.
    """
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_of(body: bytes) -> ErrorDocument | None:
    """The S3 ``<Error>`` document a body holds, or ``None`` if it holds none.

    Args:
        body: a response body.

    Returns:
        The parsed error document, or ``None`` (not XML, another root, no ``<Code>``).
    """
    if b"<Error" not in body:
        return None
    try:
        return parse_error(body)
    except ResponseError:
        return None


def _code(answer: RawResponse) -> str | None:
    document = error_of(answer.body)
    return document.code if document else None


def _said(answer: RawResponse) -> str:
    code = _code(answer)
    if code:
        return f"{answer.status} {code}"
    if answer.status < 300 or not answer.body:
        return str(answer.status)
    return f"{answer.status} {excerpt(answer.body, 60)}"


def observe(
    verdict: Verdict, answer: RawResponse, detail: str = "", *, documented: bool = False
) -> Observation:
    """An observation of ``answer`` with the given verdict.

    Args:
        verdict: the verdict.
        answer: the answer that decided it.
        detail: what to say; default: the status and code or an excerpt.
        documented: whether the answer is exactly the documented one.

    Returns:
        The observation.
    """
    return Observation(
        verdict, answer.status, _code(answer), detail or _said(answer), documented
    )


def refusal(
    answer: RawResponse,
    status: int,
    codes: Collection[str],
    *,
    stored: bool | None = None,
) -> Observation:
    """Judge the answer to a request the server must refuse.

    Args:
        answer: the server's answer.
        status: the documented status.
        codes: the documented error codes (any of them is as documented).
        stored: for a write, whether the bad request's bytes ended up stored (``None``: not
            known or not a write): a refusal that stored anyway is wrong.

    Returns:
        ``enforced`` for a refusal (``documented`` when status and code are the documented
        ones), ``accepted`` for a 2xx, ``wrong`` for a 200 carrying an error document or a
        refusal that stored the bytes anyway, ``unsupported`` for 501 NotImplemented.
    """
    code = _code(answer)
    if 200 <= answer.status < 300:
        if code is not None:
            return observe("wrong", answer, f"{answer.status} with an <Error> body ({code})")
        return observe("accepted", answer)
    if stored:
        return observe("wrong", answer, f"{_said(answer)}, but the bytes were stored")
    if answer.status == 501 or code == "NotImplemented":
        return observe("unsupported", answer)
    if answer.status >= 500:
        return observe("wrong", answer, f"server error: {_said(answer)}")
    documented = answer.status == status and (not codes or code in codes)
    return observe("enforced", answer, documented=documented)


def feature(answer: RawResponse, problem: str | None = None) -> Observation:
    """Judge the answer to a valid request for something the server must do.

    Args:
        answer: the answer that decides (the last one of the check, or the failing one).
        problem: for a 2xx answer, what was found wrong (``None``: all as documented).
            Start it with ``"ignored:"`` when the feature was silently not applied
            (verdict ``accepted``); anything else is ``wrong``.

    Returns:
        ``enforced`` when 2xx and no problem; ``accepted``/``wrong`` for a 2xx with a problem
        or an error body; ``unsupported`` for a typed refusal (an error document, or 501), a
        typed redirect included; ``wrong`` for an untyped error or redirect, or a server
        error that is not 501.
    """
    code = _code(answer)
    # Only a 2xx does what was asked: a redirect (301 PermanentRedirect, a 307) did not.
    if 200 <= answer.status < 300:
        if code is not None:
            return observe("wrong", answer, f"{answer.status} with an <Error> body ({code})")
        if problem is None:
            return observe("enforced", answer, documented=True)
        kind: Verdict = "accepted" if problem.startswith("ignored:") else "wrong"
        return observe(kind, answer, f"{answer.status}: {problem}")
    if answer.status == 501 or (code is not None and answer.status < 500):
        return observe("unsupported", answer)
    return observe("wrong", answer, f"untyped error: {_said(answer)}")


class StepRefusedError(Exception):
    """A step a check needs (creating an upload, storing its object) was not done: the check
    then reports the server's answer to that step (``feature`` judges it).

    Args:
        answer: the answer that refused.
        what: what the step was, for the report.
    """

    def __init__(self, answer: RawResponse, what: str = "") -> None:
        super().__init__(what or f"a needed step was answered {answer.status}")
        self.answer = answer
        self.what = what


def require(answer: RawResponse, *statuses: int) -> RawResponse:
    """Return ``answer`` if its status is one of ``statuses`` (default: any 2xx).

    Args:
        answer: the answer to a step the check needs.
        statuses: the statuses that count as done.

    Returns:
        The answer.

    Raises:
        StepRefusedError: any other status.
    """
    done = answer.status in statuses if statuses else 200 <= answer.status < 300
    if not done:
        raise StepRefusedError(answer)
    return answer


CheckFunction = Callable[[Any], Awaitable[Observation]]


def register(
    into: list[Check], id: str, expectation: str
) -> Callable[[CheckFunction], CheckFunction]:
    """A decorator that adds a check function to a catalogue list, as a ``Check``.

    Args:
        into: the list to append to.
        id: ``group.name``; the group is the part before the first dot.
        expectation: what the AWS documentation says the server does.

    Returns:
        The decorator; it returns the function unchanged.
    """

    def add(function: CheckFunction) -> CheckFunction:
        into.append(Check(id, id.partition(".")[0], expectation, function))
        return function

    return add
