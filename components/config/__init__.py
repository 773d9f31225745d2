"""Typed, validated stack configuration (being split by concern: see keys.py for now)."""

from components.config.keys import *  # noqa: F403
from components.config.keys import _today  # noqa: F401
