"""What the dashboard pages share: colours, cached engine calls, widget builders, chart builders.

Chart builders take DataFrames and return plotly Figures (no `st.*` inside); widget builders draw widgets
and return plain values or an ExperimentConfig; pages are glue.
"""
