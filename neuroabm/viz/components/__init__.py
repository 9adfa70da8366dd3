"""Building blocks of the neuroabm browser app (``neuroabm/viz/app.py``).

Each view is a matplotlib figure drawn off screen (Agg) whose artists are created once and
updated in place, turned into a JPEG per frame and shown by a small Solara component:

- :mod:`.torus`: the dopamine field as a heatmap, neurons coloured by type and flashing when they
  fire, release sites;
- :mod:`.raster`: the spike raster of the last second and the population rate;
- :mod:`.graphs`: graph metrics over time and the weight distribution;
- :mod:`.avalanches`: the avalanche size distribution with its power-law fit, and the branching ratio;
- :mod:`.structure`: neurons coloured by in-strength and the strongest synapses on the torus;
- :mod:`.controls`: the model class behind the sliders (``VizModel``) and the slider definitions;
- :mod:`.spike_window`: the spikes of the last seconds, read from the model's recorder as it runs;
- :mod:`.live`: widgets updated in place after every step (no re-render of the page), the time counter;
- :mod:`.layout`: the page's app bar, sidebar and main area.
"""
