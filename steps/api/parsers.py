"""The API's JSON body parser: DRF's, refusing a body nested too deep with a 400.

Python's json gives up on some ten thousand levels with a RecursionError (DRF answers only a
ValueError with a 400), and a body that parses at a few thousand levels makes the serializers
and error messages recurse as deep. Our bodies are flat, so anything deeper than a few levels
is refused before a view sees it.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from ..fields import TOO_DEEP, too_deep

REFUSED = f"The body is not valid JSON: {TOO_DEEP}."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(REFUSED) from None
        if too_deep(data):
            raise ParseError(REFUSED)
        return data
