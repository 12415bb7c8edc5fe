"""Forms are Django forms laid out by crispy-forms: no template writes its own input.

An input the pages need beyond the standard ones is a widget class with its own template
(``contacts/widgets.py``, ``contacts/kinds/widgets.py``, ``bulkupload/widgets.py``), whose
template includes Django's ``input.html`` rather than spelling an ``<input>`` out. Hidden
inputs (the value a small htmx form posts, a chip's kept value) stay allowed.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CONTROL = re.compile(r"<(input|select|textarea)\b[^>]*>", re.IGNORECASE)
HIDDEN = re.compile(r"""\btype\s*=\s*["']?hidden\b""", re.IGNORECASE)


def hand_written_controls(html: str) -> list[str]:
    """The form controls written out in ``html``, other than hidden inputs."""
    return [
        " ".join(match.group(0).split())
        for match in CONTROL.finditer(html)
        if not (match.group(1).lower() == "input" and HIDDEN.search(match.group(0)))
    ]


# The project's copies of Django's own widget templates (django/forms/widgets/select.html):
# they are what renders a form's widgets, not a page writing its own control.
WIDGET_TEMPLATES = TEMPLATES / "django" / "forms" / "widgets"


def test_no_template_writes_a_visible_input_select_or_textarea_by_hand():
    offenders = {
        str(path.relative_to(TEMPLATES)): found
        for path in sorted(TEMPLATES.rglob("*.html"))
        if not path.is_relative_to(WIDGET_TEMPLATES)
        if (found := hand_written_controls(path.read_text()))
    }
    assert offenders == {}


def test_the_select_widget_template_draws_what_djangos_own_draws():
    from django import forms
    from django.forms.renderers import DjangoTemplates
    from django.template.loader import get_template

    widget = forms.Select(
        attrs={"class": "form-select", "data-x": True, "data-y": False},
        choices=[("a", "A & co"), ("Group", [("b", "B"), ("c", "C")]), ("", "None")],
    )
    ours = widget.render("pick", "b")  # the project's renderer finds the project's copy
    assert get_template("django/forms/widgets/select.html").origin.name == str(
        WIDGET_TEMPLATES / "select.html"
    )
    djangos = widget.render("pick", "b", renderer=DjangoTemplates())
    assert "<optgroup" in ours and " selected" in ours and "A &amp; co" in ours
    assert ours == djangos


def test_the_check_finds_controls_across_lines_and_lets_hidden_inputs_through():
    html = """
      <input type="hidden" name="next" value="/"><INPUT TYPE='hidden' name=a>
      <input type="text"
             name="q" hx-get="/search/">
      <input class="form-check-input" type="checkbox" name="tags">
      <select name="survivor"><option>1</option></select>
      <textarea name="note"></textarea>
    """
    assert hand_written_controls(html) == [
        '<input type="text" name="q" hx-get="/search/">',
        '<input class="form-check-input" type="checkbox" name="tags">',
        '<select name="survivor">',
        '<textarea name="note">',
    ]
