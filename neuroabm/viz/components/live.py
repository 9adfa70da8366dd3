"""Widgets that follow the model step by step without re-rendering the page.

Mesa's controller (``ModelController``) announces every *Step* (and every step while playing) by
incrementing its ``update_counter``. A Solara component that reads the counter is re-rendered on
each change, and every render makes Reacton reconcile the *whole* component tree: each of the ~70
widgets of the page (the sidebar's sliders, cards, ...) gets its properties set again, and the
changed ones are sent widget by widget as the walk reaches them. On the 2-core machine that walk
was a third of the time from a click to the page updated.

So nothing on the page reads the counter. The widgets that change per step (the views' images and
status lines, the time counter) are made once per component and subscribed to the counter with
:func:`use_step_updates`: a step sets exactly their values, and Solara sends exactly those.
"""

from __future__ import annotations

from collections.abc import Callable

import ipyvuetify
import solara
from mesa.visualization.utils import update_counter

from neuroabm.model.model import NeuroModel


def use_step_updates(model: NeuroModel, show: Callable[[], None]) -> None:
    """Call ``show()`` now and after every step of ``model`` (Mesa's ``update_counter``).

    A hook: call it in a component's body. The subscription follows ``model`` (Mesa's *Reset*
    makes a new one: ``show`` is called for it at once) and ends with the component.
    """

    def follow() -> Callable[[], None]:
        show()
        return update_counter.subscribe(lambda _: show())

    solara.use_effect(follow, [model])


def text_widget(css_class: str, style: str = "") -> ipyvuetify.Html:
    """A ``<div>`` whose text is set in place (``widget.children = [text]``)."""
    return ipyvuetify.Html(tag="div", children=[""], class_=css_class, style_=style)


@solara.component
def TimeCounter(model: NeuroModel) -> None:
    """Mesa's time counter, "Time: <model.time>" [ms], updated in place on every step."""
    widget = solara.use_memo(lambda: text_widget("neuroabm-time"), [])

    def show() -> None:
        widget.children = [f"Time: {model.time}"]

    use_step_updates(model, show)
    solara.Column(children=[widget])
