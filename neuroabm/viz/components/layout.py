"""The page layout: an app bar, a sidebar that pushes the content aside, and the main area.

Solara 1.58's default ``AppLayout`` gives its navigation drawer ``width="min-content"`` (with a CSS
``min-width`` of 400 px). Under ipyvuetify 3 the drawer is a Vuetify 3 component, which tells the
layout how much room to keep free as ``Number(width)``: NaN here, so ``v-main`` gets
``--v-layout-left: NaN``, no left padding, and the sidebar is drawn over the left of the content
(the app bar also starts under it, since it registers after the drawer). :func:`Layout` is the same
page with a numeric drawer width, the app bar registered first (full width, the drawer below it),
and an explicit mobile breakpoint; it shows what ``solara.AppBar``, ``solara.AppBarTitle`` and
``solara.Sidebar`` put in solara's portals, so Mesa's ``SolaraViz`` fills it unchanged.
"""

from __future__ import annotations

from typing import Any

import reacton.ipyvuetify as rv
import solara
from solara.components.applayout import appbar_portal, apptitle_portal, sidebar_portal

#: width of the sidebar [px] (Mesa's cards with their sliders need ~400 px)
SIDEBAR_PX = 400
#: narrower windows [px] show the sidebar as an overlay, closed at first (Vuetify's "md")
MOBILE_BELOW_PX = 960
#: solara 1.58's Checkbox under Vuetify 3 also renders its label as bare text in the box's wrapper,
#: where it overflows to the left of the card: hide that copy (the <label> beside the box stays)
#:
#: Mesa's sliders show their value only while dragged (Vuetify's thumb label is hidden by an
#: inline ``display: none`` otherwise): show it always, above the thumb, with room for it.
#:
#: Mesa's *Play* button is the glyph "▶" (or "❚❚" while playing): the words follow it. The button is
#: the middle one of the controller's Reset / Play / Step row; while playing, *Step* is disabled.
#:
#: Solara's banner ("This website runs on Solara") sits over the bottom right of the page: the
#: main area ends with :data:`BANNER_CLEARANCE_PX` of free space, so no caption stays under it.
_CSS = """
.neuroabm-sidebar .v-selection-control__wrapper { font-size: 0; }
.neuroabm-sidebar .v-selection-control__wrapper .v-icon { font-size: 24px; }
.neuroabm-sidebar .v-slider .v-slider-thumb__label-container { display: block !important; }
.neuroabm-sidebar .v-slider .v-slider-thumb__label { font-size: 11px; height: 20px; min-width: 30px; padding: 4px; }
.neuroabm-sidebar .v-slider.v-input { padding-top: 26px; }
.neuroabm-sidebar .v-btn + .v-btn:has(+ .v-btn) .v-btn__content::after { content: "Play"; margin-left: 0.4em; }
.neuroabm-sidebar .v-btn + .v-btn:not(.v-btn--disabled):has(+ .v-btn.v-btn--disabled) .v-btn__content::after {
  content: "Pause";
}
"""
#: free space below the views [px], clear of Solara's banner (~40 px high)
BANNER_CLEARANCE_PX = 56


@solara.component
def Layout(children: list[Any] | None = None) -> Any:
    """App bar (menu button, title, app-bar items), sidebar (open by default) and the page.

    Args:
        children: the page's elements (solara's router passes the page as the only child).

    """
    sidebar = sidebar_portal.use_portal()
    appbar = appbar_portal.use_portal()
    title = apptitle_portal.use_portal()
    open_, set_open = solara.use_state(True)
    with rv.Html(tag="div") as main:
        solara.Style(_CSS)
        with rv.AppBar(color="primary", order=0).key("neuroabm-appbar"):
            solara.Button(
                icon_name="mdi-menu",
                icon=True,
                text=True,
                on_click=lambda: set_open(not open_),
                classes=["neuroabm-menu"],
            )
            rv.ToolbarTitle(children=title)
            rv.Spacer()
            for i, item in enumerate(appbar):
                solara.display(item.key(f"neuroabm-appbar-{i}") if item._key is None else item)
        with rv.NavigationDrawer(
            v_model=open_, on_v_model=set_open, width=SIDEBAR_PX, order=1, mobile_breakpoint=MOBILE_BELOW_PX,
            class_="neuroabm-sidebar",
        ).key("neuroabm-sidebar"):  # fmt: skip
            rv.Html(tag="div", children=sidebar, style_="padding: 12px")
        with rv.Main(class_="neuroabm-main").key("neuroabm-main"):
            solara.Div(style={"padding": f"12px 12px {BANNER_CLEARANCE_PX}px"}, children=children or [])
    return main
