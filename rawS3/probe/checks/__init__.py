"""The catalogue: every check, in the order reports list them, by group.

To add a check, write a short coroutine in the group's module and decorate it with
``register(CHECKS, "group.name", "what AWS documents")``: it gets a ``Context`` and returns an
``Observation`` (see ``rawS3.probe.model`` for the verdict helpers).
"""

from __future__ import annotations

from rawS3.probe.checks import auth, features, listing, multipart, objects, payload, shape
from rawS3.probe.model import Check

__all__ = ["CATALOGUE", "GROUPS", "select"]

CATALOGUE: tuple[Check, ...] = (
    *auth.CHECKS,
    *payload.CHECKS,
    *multipart.CHECKS,
    *objects.CHECKS,
    *features.CHECKS,
    *listing.CHECKS,
    *shape.CHECKS,
)
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(check.group for check in CATALOGUE))


def select(groups: list[str] | None) -> tuple[Check, ...]:
    """The checks of the named groups, in catalogue order (all of them for ``None``).

    Args:
        groups: group names, or ``None``.

    Returns:
        The checks.

    Raises:
        ValueError: an unknown group name.
    """
    if groups is None:
        return CATALOGUE
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown group(s) {', '.join(unknown)}; groups are {', '.join(GROUPS)}")
    return tuple(check for check in CATALOGUE if check.group in groups)
