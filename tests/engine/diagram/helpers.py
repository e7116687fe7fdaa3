"""Reading the SVG the way the console and these tests rely on: classes and data-* hooks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    """The ``<g>`` elements carrying class ``cls``."""
    return [g for g in root.iter(f"{NS}g") if cls in (g.get("class") or "").split()]


def states(root: ET.Element) -> dict[str, ET.Element]:
    found = groups(root, "state")
    names = [g.get("data-state") for g in found]
    assert len(names) == len(set(names)), f"a state drawn twice: {names}"
    return {str(g.get("data-state")): g for g in found}


def edges(root: ET.Element) -> list[ET.Element]:
    return groups(root, "edge")


def classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def texts(element: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in element.iter(f"{NS}text"))


def box(rect: ET.Element) -> tuple[float, float, float, float]:
    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
    return x, y, x + float(rect.get("width", 0)), float(rect.get("height", 0)) + y


def shows(element: ET.Element, text: str) -> bool:
    """Whether ``text`` is drawn in ``element``, wrapped over rows or not."""
    return "".join(text.split()) in "".join(texts(element).split())
