"""Integrations with the tools image makers already use (e.g. `comfyui`): each node or hook is
one call of a cliplens library function, so they answer exactly as the CLI, the API and Python do."""
