"""lfv-monitor: state-change events for Amazon Lookout for Vision model packaging jobs."""

__version__ = "0.1.0"
