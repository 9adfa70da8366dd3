"""The browser app (``neuroabm viz``): Mesa's SolaraViz with live views of a running model.

The app is :mod:`neuroabm.viz.app` (served by ``solara run``, see :data:`neuroabm.cli.VIZ_APP`); its
views and controls are in :mod:`neuroabm.viz.components`. It ships with the package, so
``neuroabm viz`` works from any install, editable or not. Importing this package imports nothing
heavy: Solara and Mesa's visualization load with :mod:`neuroabm.viz.app`.
"""
