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
_CSS = """
.neuroabm-sidebar .v-selection-control__wrapper { font-size: 0; }
.neuroabm-sidebar .v-selection-control__wrapper .v-icon { font-size: 24px; }
"""


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
            solara.Div(style={"padding": "12px"}, children=children or [])
    return main
