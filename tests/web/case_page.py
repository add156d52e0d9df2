"""Reading a case page as a person reads it: the text of an element by id, a field's value, the
evidence list; shared by the case-page tests."""

from __future__ import annotations

from html.parser import HTMLParser


class _Page(HTMLParser):
    """Each element's text by id, each form field's value by name and form id, and the
    evidence list's items."""

    _VOID = frozenset({"input", "br", "img", "meta", "link", "hr", "source", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, str] = {}
        self.fields: dict[tuple[str, str], str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.evidence: dict[str, bool] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the open elements
        self._form = ""
        self._textarea: tuple[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        element_id = found.get("id")
        if element_id:
            self.attrs[element_id] = found
            self.texts.setdefault(element_id, "")
        if tag == "form":
            self._form = found.get("id") or ""
        if tag == "input" and found.get("name"):
            self.fields[(self._form, str(found["name"]))] = found.get("value") or ""
        if tag == "textarea" and found.get("name"):
            self._textarea = (self._form, str(found["name"]))
            self.fields[self._textarea] = ""
        if tag == "li" and found.get("data-key"):
            self.evidence[str(found["data-key"])] = "present" in (found.get("class") or "").split()
        if tag not in self._VOID:
            self._open.append((tag, element_id))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        if tag == "form":
            self._form = ""
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id] += data


class CasePage:
    def __init__(self, html: str) -> None:
        self.html = html
        self._page = _Page(html)

    def text(self, element_id: str) -> str:
        """The element's text, spaces collapsed ("" when the page has no such element)."""
        return " ".join(self._page.texts.get(element_id, "").split())

    def has(self, element_id: str) -> bool:
        return element_id in self._page.attrs

    def attr(self, element_id: str, name: str) -> str | None:
        return self._page.attrs.get(element_id, {}).get(name)

    def field(self, form_id: str, name: str) -> str:
        return self._page.fields[(form_id, name)]

    @property
    def evidence(self) -> dict[str, bool]:
        """Each evidence item's key and whether the page shows it present."""
        return dict(self._page.evidence)
