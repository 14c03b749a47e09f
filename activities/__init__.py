"""Every side effect of a flow step, as Temporal activities (see `FlowActivities`).

Importing the package imports each of its modules, so every step handler has registered
itself (`@handles("<type>")`, `activities.step`): a new action step's handler is one module
here, and no list names it.
"""

import importlib
import pkgutil

from activities.flow_activities import FlowActivities
from activities.step import HANDLERS

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["HANDLERS", "FlowActivities"]
