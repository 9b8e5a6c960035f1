"""Small FastAPI dependencies shared by the endpoint modules."""
from __future__ import annotations

from fastapi import Request

from .config import Limits
from .state import ServerState


def get_state(request: Request) -> ServerState:
    """The app's `ServerState` (models, roots, jobs)."""
    return request.app.state.cl


def get_limits(request: Request) -> Limits:
    return request.app.state.cl.config.limits
