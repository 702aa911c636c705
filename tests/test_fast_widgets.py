"""The fast widgets write exactly what wtforms' own widgets write, for any attributes and values.

They exist only to be quicker (the case page's forms); any difference in the HTML is a defect.
"""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms import BooleanField, DateField, Form, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, DateInput, Select, TextArea, html_params

from marac.web.forms import FastCheckbox, FastDateInput, FastSelect, FastTextArea, attributes

names = st.builds(
    lambda prefix, stem, suffix: prefix + stem + suffix,
    st.sampled_from(["", "data_", "aria_"]),
    st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12),
    st.sampled_from(["", "_"]),
)
# Text with everything HTML cares about, including quotes and markup-looking strings.
hostile_text = st.text(alphabet=st.sampled_from(list("ab <>&\"'=/é\u200b")), max_size=20)
values = st.one_of(
    st.booleans(),
    st.integers(-5, 10_000),
    hostile_text,
    hostile_text.map(Markup),
)


@given(st.dictionaries(names, values, max_size=6))
def test_attributes_match_wtforms_html_params(kwargs: dict) -> None:
    assert attributes(**kwargs) == html_params(**kwargs)


def _form(choices: list, data: str | None, text: str | None, ticked: bool) -> Form:
    class Fields(Form):
        fast_select = SelectField("Owner", name="field", widget=FastSelect(), choices=choices)
        stock_select = SelectField("Owner", name="field", widget=Select(), choices=choices)
        fast_text = TextAreaField(
            "What", name="field", widget=FastTextArea(), validators=[Length(max=20)]
        )
        stock_text = TextAreaField(
            "What", name="field", widget=TextArea(), validators=[Length(max=20)]
        )
        fast_date = DateField(
            "Due", name="field", widget=FastDateInput(), validators=[DataRequired()]
        )
        stock_date = DateField("Due", name="field", widget=DateInput(), validators=[DataRequired()])
        fast_tick = BooleanField("Shared", name="field", widget=FastCheckbox())
        stock_tick = BooleanField("Shared", name="field", widget=CheckboxInput())

    return Fields(
        data={
            "fast_select": data,
            "stock_select": data,
            "fast_text": text,
            "stock_text": text,
            "fast_tick": ticked,
            "stock_tick": ticked,
        }
    )


choice_lists = st.lists(
    st.one_of(
        st.builds(SelectChoice, st.text(string.digits, min_size=1, max_size=3), hostile_text),
        st.text(string.digits, min_size=1, max_size=3),
    ),
    max_size=8,
)


@settings(max_examples=200)
@given(
    choices=choice_lists,
    data=st.one_of(st.none(), st.text(string.digits, max_size=3)),
    text=st.one_of(st.none(), hostile_text),
    ticked=st.booleans(),
    extra=st.dictionaries(names, values, max_size=3),
)
def test_fast_widgets_write_what_the_stock_widgets_write(
    choices: list, data: str | None, text: str | None, ticked: bool, extra: dict
) -> None:
    form = _form(choices, data, text, ticked)
    # Each pair shares its name and is rendered with the same id, so only the widget differs.
    for fast, stock in (
        (form.fast_select, form.stock_select),
        (form.fast_text, form.stock_text),
        (form.fast_date, form.stock_date),
        (form.fast_tick, form.stock_tick),
    ):
        same = {"id": "field", **extra}
        assert fast.widget(fast, **same) == stock.widget(stock, **same)


def test_select_with_option_attributes_goes_the_stock_way() -> None:
    choices = [SelectChoice("1", "One", render_kw={"disabled": True}), SelectChoice("2", "Two")]

    class Fields(Form):
        fast = SelectField("Owner", name="field", widget=FastSelect(), choices=choices)
        stock = SelectField("Owner", name="field", widget=Select(), choices=choices)

    form = Fields(data={"fast": "2", "stock": "2"})
    html = form.fast.widget(form.fast, id="x")
    assert html == form.stock.widget(form.stock, id="x")
    assert "disabled" in html
