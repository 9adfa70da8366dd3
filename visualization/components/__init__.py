"""The app's components moved to :mod:`neuroabm.viz.components`; these modules re-export them."""
