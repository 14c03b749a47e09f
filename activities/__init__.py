"""Every side effect of a flow step, as Temporal activities (see `FlowActivities`)."""

from activities.flow_activities import HANDLERS, FlowActivities

__all__ = ["HANDLERS", "FlowActivities"]
