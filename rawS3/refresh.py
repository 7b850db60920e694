"""The credentials a client signs with, fetched from its provider and refreshed before they
expire: one refresh at a time, however many requests are waiting.

When the held credentials expire within the margin, the first request to notice takes the
lock and fetches; the others wait on the lock and then find the new credentials, so 200
requests at the moment of expiry cause one fetch. A failed refresh while the old credentials
still work is logged (without the error's secrets: the providers put none in it) and the old
ones are used until they expire; the next attempt waits ``RETRY_AFTER_FAILURE`` seconds. So
does the next fetch after one that brought credentials already within the margin (a
``credential_process`` that caches its own, say), rather than a fetch for every request.

asyncio is imported inside the coroutines, so the facade can hold a cache without loading it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from rawS3.credentials import (
    REFRESH_MARGIN,
    RETRY_AFTER_FAILURE,
    CredentialsProvider,
    refresh_due,
    still_valid,
)
from rawS3.errors import CredentialsError
from rawS3.sigv4 import Credentials

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Mapping

    from rawS3.chain import Plan

__all__ = ["CredentialsCache", "PlannedProvider"]

log = logging.getLogger("rawS3")


class CredentialsCache:
    """Fixed credentials, or a provider's, fetched on first use and refreshed before expiry.

    Args:
        source: fixed ``Credentials``, or a provider.
        read_clock: seconds since the epoch (the client's clock, a fake one in tests).
        margin: refresh this many seconds before the expiry.
        name: the source's name, for ``whoami`` and messages.

    Attributes:
        provider: the provider, or ``None`` for fixed credentials.
        refreshes: how many times the provider has been asked.
    """

    def __init__(
        self,
        source: Credentials | CredentialsProvider,
        read_clock: Callable[[], float],
        *,
        margin: float = REFRESH_MARGIN,
        name: str | None = None,
    ) -> None:
        self.provider: CredentialsProvider | None = None
        self._held: Credentials | None = None
        if isinstance(source, Credentials):
            self._held = source
        else:
            self.provider = source
        self.name = name or getattr(source, "source", None) or type(source).__name__
        self._read_clock = read_clock
        self._margin = margin
        self._lock: asyncio.Lock | None = None
        self._lock_loop: object = None
        self._asked_at: float | None = None  # when the last fetch ended, well or not
        self._failure: tuple[str, str] | None = None
        self._finished = 0  # fetches that have ended, well or not
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"CredentialsCache(source={self.name!r}, held={self._held!r})"

    @property
    def last(self) -> Credentials | None:
        """The credentials fetched last (or the fixed ones), expired or not."""
        return self._held

    def usable_now(self) -> Credentials | None:
        """Return the held credentials if they can sign now, without fetching.

        Returns:
            The credentials, or ``None`` when none were fetched yet or they have expired.
        """
        held = self._held
        return held if still_valid(held, self._read_clock()) else None

    async def current(self) -> Credentials:
        """Return credentials to sign with now, fetching or refreshing them if due.

        Returns:
            Credentials that have not expired.

        Raises:
            CredentialsError: they could not be fetched and none still valid are held.
        """
        held = self._held
        if self.provider is None or not self._due(held):
            assert held is not None  # fixed credentials are always held
            return held
        arrived = self._finished
        async with self._loop_lock():
            held = self._held
            if not self._due(held):
                return held  # type: ignore[return-value]  # _due is False only when held
            if self._finished != arrived and self._failure is not None:
                # A fetch failed while this request waited: share its failure rather than
                # ask a source that is down once more for every waiting request.
                raise CredentialsError(*self._failure)
            return await self._refresh(self.provider, held)

    def _due(self, held: Credentials | None) -> bool:
        now = self._read_clock()
        if not refresh_due(held, now, self._margin):
            return False
        # Just asked: a source that failed, or that hands out credentials already within the
        # margin, is not asked again by every request (held ones are used while they work).
        resting = self._asked_at is not None and now - self._asked_at < RETRY_AFTER_FAILURE
        return not (resting and still_valid(held, now))

    async def _refresh(
        self, provider: CredentialsProvider, held: Credentials | None
    ) -> Credentials:
        self.refreshes += 1
        # Forget the last failure: waiters share only this fetch's, and none if it is cancelled.
        self._failure = None
        try:
            fresh = await provider.fetch()
            if not isinstance(fresh, Credentials):
                raise CredentialsError(self.name, f"fetch() returned {type(fresh).__name__}")
        except Exception as exc:
            return self._failed(exc, held)
        finally:
            self._finished += 1  # counted when the fetch has ended: waiters compare it
        self._asked_at = self._read_clock()
        self._failure = None
        self._held = fresh
        return fresh

    def _failed(self, exc: Exception, held: Credentials | None) -> Credentials:
        """Keep ``held`` if it still works (and say so in the log), else raise."""
        self._asked_at = self._read_clock()
        # Only the kind of failure for a foreign exception: its message may quote secrets.
        self._failure = (
            (exc.source, str(exc).removeprefix(f"{exc.source}: "))
            if isinstance(exc, CredentialsError)
            else (self.name, f"fetching credentials failed: {type(exc).__name__}")
        )
        if held is not None and still_valid(held, self._asked_at):
            log.warning(
                "refreshing credentials from %s failed; the current ones are used until "
                "they expire: %s",
                self.name,
                type(exc).__name__,
            )
            return held
        if isinstance(exc, CredentialsError):
            raise exc
        raise CredentialsError(*self._failure) from exc

    def _loop_lock(self) -> asyncio.Lock:
        import asyncio

        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            # A lock belongs to the loop it first waited on; a client may outlive its loop.
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock


class PlannedProvider:
    """A provider for a plan of the chain, made with the first fetch (loading aiohttp then).

    Args:
        plan: the source the chain chose.
        env: the environment (the STS endpoint).
        region: the region STS is called in.
    """

    def __init__(self, plan: Plan, env: Mapping[str, str], region: str) -> None:
        self.plan = plan
        self.source = plan.source
        self._env = env
        self._region = region
        self._made: Credentials | CredentialsProvider | None = None

    def __repr__(self) -> str:
        return f"PlannedProvider({self.source!r})"

    async def fetch(self) -> Credentials:
        """Fetch from the planned source.

        Returns:
            Its credentials.

        Raises:
            CredentialsError: the source failed.
        """
        if self._made is None:
            from rawS3.providers import provider_for

            self._made = provider_for(self.plan, self._env, self._region)
        made = self._made
        return made if isinstance(made, Credentials) else await made.fetch()
