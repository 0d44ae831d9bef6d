"""A vendor chosen by typing its name: the one field every form uses to pick a vendor.

A select listing every vendor made each page that filters or files by vendor half a second
slower and 400 KB heavier at 10,000 vendors. This field is a text box instead, which the browser
completes from the names the app suggests as one types (static/js/vendor-names.js fills its
datalist from a JSON route of the area, ``suggest``); without script, the exact name, in any
case, is enough (names are unique whatever their case).

Its ``data`` is the vendor's id, as the select's was, so views and services are unchanged. The
box is sent as ``<field name>-name``; a link or a client that knows the id sends it as
``<field name>`` instead (``/findings/?vendor_id=4``), and the box then shows that vendor's name.
A name that matches no vendor, or an id that is not a vendor's, is an error at the field.
"""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.widgets import html_params

from ..db import db, row_id
from ..services import inventory
from ..services.blast_radius import vendor_id_by_name

NAME_SUFFIX = "-name"
UNKNOWN_ID = "Choose one of the listed options."


class VendorInput:
    """A text box with its datalist; the field's ``suggest`` endpoint fills the list."""

    def __call__(self, field: VendorField, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        listed = f"{kwargs['id']}-names"
        attributes = {
            "type": "text",
            "name": field.name + NAME_SUFFIX,
            "value": field.shown(),
            "list": listed,
            "autocomplete": "off",
            "spellcheck": "false",
            "data-suggest": url_for(field.suggest),
        }
        if field.placeholder:
            attributes["placeholder"] = field.placeholder
        if field.flags.required:
            attributes["required"] = True
        attributes |= kwargs
        return Markup('<input {}><datalist id="{}"></datalist>').format(
            Markup(html_params(**attributes)),  # noqa: S704 - html_params escapes every value
            listed,
        )


class VendorField(Field):
    """A vendor by name (see the module); ``data`` is its id or None.

    ``suggest``: the endpoint that answers ``?q=`` with matching names as JSON (each area
    that shows the field has one its users may reach); ``placeholder``: what an empty box
    means ("Any vendor", "None: one of ours"). Which vendor is acceptable where (not
    offboarded, not the vendor itself) is the services' to say."""

    widget = VendorInput()

    def __init__(
        self,
        label: str | None = None,
        validators=None,
        *,
        suggest: str = "inventory.vendor_names",
        placeholder: str = "",
        **kwargs,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.suggest = suggest
        self.placeholder = placeholder
        self.typed: str | None = None

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        self.typed = None
        if formdata is not None and self.name + NAME_SUFFIX in formdata:
            # The box was sent: its text decides, resolved when the form is validated.
            super().process(None, data, extra_filters)
            self.typed = formdata.get(self.name + NAME_SUFFIX, "").strip()
            self.raw_data = [self.typed]
            self.data = None
            return
        super().process(formdata, data, extra_filters)

    def process_data(self, value) -> None:
        # A pre-filled id (``new?vendor_id=``) no row can have pre-fills nothing.
        self.data = row_id(value)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.data = row_id(valuelist[0])
        if self.data is None:
            raise ValueError(UNKNOWN_ID)

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()
        if self.typed:
            found = vendor_id_by_name(db.session, self.typed)
            if found is None:
                raise StopValidation(
                    f"No vendor is named “{self.typed}”: type a name the list offers."
                )
            self.data = found
        elif self.data is not None and inventory.vendor_name(db.session, self.data) is None:
            raise StopValidation(UNKNOWN_ID)

    def shown(self) -> str:
        """The box's text: what was typed, or the name of the vendor the field holds."""
        if self.typed is not None:
            return self.typed
        if self.data is None or self.process_errors:
            return "" if not self.raw_data else self.raw_data[0]
        return inventory.vendor_name(db.session, self.data) or ""
