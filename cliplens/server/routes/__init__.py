"""Endpoint modules, one per capability; each exposes `router` (an APIRouter) and registers on import."""
