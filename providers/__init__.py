"""The providers behind Flowdeck's channels, as both the worker and the API reach them.

Twilio's REST client (`twilio_rest`) and the one effect the API and the worker's activities
both make through it: calling a free agent into a waiting caller's queue (`offers`). It may
import `schemas` and `store` (an offer's claim, the outbox row of a sandbox send); never
`activities`, `workflows` or `api`, which both stand on it.
"""
