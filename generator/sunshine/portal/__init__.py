"""Pelican plugin of the public portal. This module only registers; the work is in
:mod:`sunshine.portal.generator` (compute in ``generate_context``, write in ``generate_output``),
:mod:`sunshine.portal.views` (pages from data), :mod:`sunshine.portal.render` (incremental
rendering) and :mod:`sunshine.portal.build` (``sunshine build``: Pelican, search index, atomic swap).
"""

from __future__ import annotations

from pelican import signals


def _generators(pelican_object):  # noqa: ARG001 - signature fixed by Pelican
    from .generator import PortalGenerator

    return PortalGenerator


def register() -> None:
    signals.get_generators.connect(_generators)
