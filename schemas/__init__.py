"""Pydantic models shared by every layer: the flow document, API bodies, events, settings.

Imports nothing else of Flowdeck's, so workflows can import it passed through the sandbox.
"""
