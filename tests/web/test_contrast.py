"""Every text colour of Majlis's stylesheets reads at 4.5:1 or more (WCAG 2.x AA) on the backgrounds it can sit on.

The stylesheets are parsed, not rendered: a rule that sets both `color` and `background` is a pair, checked as
such; a rule that sets a dark `color` alone may sit on any light background the stylesheets define (a page, a
card, a table head, a highlighted row), so it is checked against every one of them; a light `color` alone is
white text on a dark band whose background is named in LIGHT_ON. Opacity below 1 on anything holding text is
refused: it is how the cancelled badges fell to 3.12:1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
SHEETS = sorted(STATIC.glob("*.css"))
AA = 4.5
NAMED = {"white": "#ffffff", "black": "#000000", "#fff": "#ffffff", "#000": "#000000"}
# Light text set without its own background, and the dark background it sits on.
LIGHT_ON = {
    ".brand": "var(--accent)",
    ".site-nav a, .site-nav button.link": "var(--accent)",
    ".brand-sub": "var(--accent)",
    ".screen-hint": "#0d1f18",
    ".screen-time": "#0d1f18",
    ".hall-screen h2": "#0b3d2e",
    ".hall-screen .number.idle": "#0b3d2e",
}
# Opacity on what holds no text (an input hidden under its drawn face), or only for a moment (a calendar card while
# it is being dragged).
OPACITY_ALLOWED = {".rate .face input", ".appointment-card.dragging"}

RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|\bvar\(--[\w-]+\)|\bwhite\b|\bblack\b")


def _variables() -> dict[str, str]:
    root = (STATIC / "majlis.css").read_text()
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})", root))


VARIABLES = _variables()


def _hex(value: str) -> str | None:
    value = value.strip()
    var = re.fullmatch(r"var\((--[\w-]+)(?:,\s*(#[0-9a-fA-F]{3,6}))?\)", value)
    if var:
        value = VARIABLES.get(var.group(1)) or var.group(2) or ""
    value = NAMED.get(value.lower(), value)
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value.lower() if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else None


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rules() -> list[tuple[str, str, dict[str, str]]]:
    """(sheet, selector, declarations) of every rule, @media blocks flattened."""
    found = []
    for sheet in SHEETS:
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
        for selector, body in RULE.findall(text):
            selector = " ".join(selector.split("}")[-1].split())
            if selector.startswith("@"):
                selector = selector.split("{")[-1].strip()
            declarations = {}
            for part in body.split(";"):
                if ":" in part:
                    name, _, value = part.partition(":")
                    declarations[name.strip().lower()] = value.replace("!important", "").strip()
            found.append((sheet.name, selector, declarations))
    return found


def _background(declarations: dict[str, str]) -> str | None:
    for name in ("background-color", "background"):
        if name in declarations:
            match = COLOUR.search(declarations[name])
            if match:
                return _hex(match.group(0))
    return None


def _light_backgrounds() -> set[str]:
    found = {_hex("var(--paper)"), _hex("var(--card)"), "#ffffff"}
    for _, _, declarations in _rules():
        background = _background(declarations)
        if background and luminance(background) > 0.5:
            found.add(background)
    return {b for b in found if b}


def pairs() -> list[tuple[str, str, str, str]]:
    """(where, selector, text colour, background) for every pair the stylesheets make."""
    backdrops = sorted(_light_backgrounds())
    out = []
    for sheet, selector, declarations in _rules():
        colour = _hex(declarations["color"]) if "color" in declarations else None
        if colour is None:
            continue
        background = _background(declarations)
        if background is not None:
            out.append((sheet, selector, colour, background))
        elif selector in LIGHT_ON:
            out.append((sheet, selector, colour, _hex(LIGHT_ON[selector]) or ""))
        else:
            out.extend((sheet, selector, colour, b) for b in backdrops)
    return out


def test_the_parser_finds_the_pairs_it_should() -> None:
    found = {(selector, colour, background) for _, selector, colour, background in pairs()}
    assert ("button.primary, .button.primary", "#ffffff", "#0b6e4f") in found
    assert any(selector == ".field-error" and colour == "#b3261e" for selector, colour, _ in found)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the textbook grey on white


def test_text_reads_at_four_and_a_half_to_one() -> None:
    checked = pairs()
    low = [
        f"{sheet} {selector}: {colour} on {background} is {contrast(colour, background):.2f}:1"
        for sheet, selector, colour, background in checked
        if contrast(colour, background) < AA
    ]
    assert len(checked) > 300  # every sheet read: a parser that finds nothing passes nothing
    assert low == []


def test_no_text_is_faded_by_opacity() -> None:
    faded = [
        f"{sheet} {selector}"
        for sheet, selector, declarations in _rules()
        if "opacity" in declarations
        and selector not in OPACITY_ALLOWED
        and float(declarations["opacity"]) < 1
        and not selector.endswith("::backdrop")
    ]
    assert faded == []


def test_disabled_controls_look_disabled() -> None:
    css = (STATIC / "majlis.css").read_text()
    for selector in ("button:disabled", 'button[aria-disabled="true"]', "input:disabled", "select:disabled"):
        assert selector in css, selector
