"""The run screen's compositor: a partial update renders the lines refreshed, not every line of
every widget on the screen.

Textual 8.2.8's ``Compositor.render_partial_update`` takes the bounding box of the regions
refreshed since the last pass, and renders every widget whose container overlaps it, each one
whole (all of its lines, from its cache where they did not change). Every widget of the run
screen sits in a container as big as the screen: each pass rendered all of them, whatever
changed. In the quiet scene of bench/run.py --only cpu100 --tally that was 18 widgets and about
200 lines a pass, for 5 lines that had changed (the table's, the details', a timeline lane).
Here a widget is rendered only if a region refreshed overlaps it, and only across the rows those
regions cover in it. What reaches the terminal is the same: ``ChopsUpdate`` writes only the spans
of the regions refreshed, and every widget seen in those spans is rendered on their lines.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip


class SparseCompositor(Compositor):
    """Textual's compositor, its partial updates limited to the widgets and rows refreshed."""

    _refreshed: list[Region] | None = None  # during a partial update: the regions it draws

    def render_partial_update(self) -> ChopsUpdate | None:
        screen = self.size.region
        regions = [clipped for region in self._dirty_regions if (clipped := region.intersection(screen))]
        self._dirty_regions.clear()
        if not regions:
            return None
        spans = list(self._regions_to_spans(regions))
        is_rendered_line = {y for y, _, _ in spans}.__contains__
        self._refreshed = regions
        try:
            chops = self._render_chops(screen, is_rendered_line)
        finally:
            self._refreshed = None
        return ChopsUpdate(chops, spans, [cut_set[1:] for cut_set in self.cuts])

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        """In a partial update, each widget a region refreshed overlaps, rendered from the first row
        refreshed in it to the last (its region, that band as its clip, its strips); otherwise Textual's."""
        refreshed = self._refreshed
        if refreshed is None:
            yield from super()._get_renders(crop)
            return
        for widget, (region, clip) in self.visible_widgets.items():
            x, y, width, height = region.intersection(clip)
            right, bottom = x + width, y + height
            top, end = bottom, y
            for rx, ry, rwidth, rheight in refreshed:
                if rx < right and x < rx + rwidth and ry < bottom and y < ry + rheight:
                    top, end = min(top, max(y, ry)), max(end, min(bottom, ry + rheight))
            if top < end:
                band = Region(x, top, width, end - top)
                yield region, band, widget.render_lines(band.translate((-region.x, -region.y)))
