"""What the suites share: the failing case for a member a vector file lacks."""

from __future__ import annotations


def missing(data: dict, member: str, file: str) -> list:
    """A failing case for a member the generator writes but the file lacks."""
    return [(f"{file}: {member}", lambda: [f"no {member} in {file} (regenerate the vectors)"])]
