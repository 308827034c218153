"""Parse XML from outside without entity expansion (billion laughs, external entities).

defusedxml does this when it is installed. Without it, the document is read with expat directly,
refusing any entity declaration and external reference, into an ElementTree (namespaced names in
ElementTree's `{uri}local` form), so readers see the same tree either way.
"""

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

try:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring as _defused_fromstring
except ImportError:  # pragma: no cover - depends on the environment
    DefusedXmlException = None
    _defused_fromstring = None


class UnsafeXML(ValueError):
    """The document declares entities or refers to external ones."""


class BrokenXML(ValueError):
    """The document is not well-formed XML."""


def _forbid(*_args) -> None:
    raise UnsafeXML("entity declarations are not accepted")


def _name(raw: str) -> str:
    return "{" + raw if "}" in raw else raw


def _expat_fromstring(data: bytes) -> ET.Element:
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    parser.buffer_text = True
    parser.StartElementHandler = lambda tag, attrs: builder.start(_name(tag), {_name(k): v for k, v in attrs.items()})
    parser.EndElementHandler = lambda tag: builder.end(_name(tag))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise BrokenXML(str(error)) from error
    return builder.close()


def parse(path: Path) -> ET.Element:
    """The document's root element; raises UnsafeXML or BrokenXML."""
    data = path.read_bytes()
    if _defused_fromstring is None:
        return _expat_fromstring(data)
    try:
        return _defused_fromstring(data)
    except DefusedXmlException as error:
        raise UnsafeXML(str(error)) from error
    except ET.ParseError as error:
        raise BrokenXML(str(error)) from error
