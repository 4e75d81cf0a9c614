"""The physics filter: sampling-based predictive control of what the tracker is fed."""

from exoactor.control.filter.config import DecisionBounds, FilterConfig, ObjectiveWeights
from exoactor.control.filter.run import FilterResult, filter_motion

__all__ = ["DecisionBounds", "FilterConfig", "FilterResult", "ObjectiveWeights", "filter_motion"]
